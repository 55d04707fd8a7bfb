/**
 * `character import` and its alias `import-characterllm` (issue #10 item 7, issue #11 item 4):
 * the layout is detected or checked, output goes to <data folder>/imports through a temporary
 * file, a failed import writes nothing, and an earlier import is replaced only with --force.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../src-main/cli/main';

let home: string;
const saved = process.env.CHARACTER_STUDIO_HOME;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'cli-import-'));
  process.env.CHARACTER_STUDIO_HOME = home;
});
afterEach(() => rmSync(home, { recursive: true, force: true }));
afterAll(() => {
  if (saved === undefined) delete process.env.CHARACTER_STUDIO_HOME;
  else process.env.CHARACTER_STUDIO_HOME = saved;
});

function sink(): { write: (s: string) => boolean; text: () => string; isTTY: boolean; columns: number } {
  let buf = '';
  return {
    isTTY: false,
    columns: 100,
    write: (s: string) => {
      buf += s;
      return true;
    },
    text: () => buf,
  };
}

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const code = await main(argv, { stdout: out, stderr: err });
  return { code, out: out.text(), err: err.text() };
}

const scene = (output: string): string =>
  JSON.stringify({ prompt: 'Act like Beethoven.\nLocation: Vienna\n', output, source: 'seed_1' });
const GOOD = scene(
  'Karl: Uncle, are you angry?<|eot|>\nBeethoven (sighs): Angry? I fear for you, boy.<|eot|>\nKarl: Why?<|eot|>\nBeethoven: Because I love you.<|eot|>',
);
const chat = (q: string, a: string): string =>
  JSON.stringify({
    messages: [
      { role: 'user', content: q },
      { role: 'assistant', content: a },
    ],
  });

function input(name: string, text: string): string {
  const path = join(home, name);
  writeFileSync(path, text);
  return path;
}

describe('character import', () => {
  it('detects a chat file and writes it to the imports folder as chat JSONL', async () => {
    const file = input('my-data.jsonl', [chat('Q one?', 'A one.'), chat('Q two?', 'A two.')].join('\n'));
    const r = await run('import', file);
    expect(r.code).toBe(0);
    expect(r.out).toContain('2 pairs from 2 lines of chat JSONL (messages) (detected)');
    const out = join(home, 'imports', 'chat-my-data.jsonl');
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(rows[0]).toEqual({
      messages: [
        { role: 'user', content: 'Q one?' },
        { role: 'assistant', content: 'A one.' },
      ],
      source: 'line 1',
    });
    const json = await run('import', file, '--out', join(home, 'other.jsonl'), '--json');
    expect(JSON.parse(json.out)).toMatchObject({ format: 'chat', pairs: 2, written: true, skippedCount: 0 });
  });

  it('never replaces an earlier import without --force', async () => {
    const file = input('d.jsonl', chat('Q?', 'First answer.'));
    expect((await run('import', file)).code).toBe(0);
    const out = join(home, 'imports', 'chat-d.jsonl');
    writeFileSync(file, chat('Q?', 'Second answer.'));
    const again = await run('import', file);
    expect(again.code).toBe(1);
    expect(again.err).toContain(`${out} already exists (an earlier import): pass --force to replace it`);
    expect(readFileSync(out, 'utf8')).toContain('First answer.');
    expect((await run('import', file, '--force')).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('Second answer.');
  });

  it('refuses a requested format the file does not have, naming the detected one', async () => {
    const file = input('c.jsonl', chat('Q?', 'A.'));
    const r = await run('import', file, '--format', 'sharegpt');
    expect(r.code).toBe(1);
    expect(r.err).toContain('is not a ShareGPT (conversations) file; it looks like chat JSONL (messages)');
    expect((await run('import', file, '--format', 'yaml')).err).toContain('unknown format "yaml"');
  });
});

describe('character import-characterllm (the alias)', () => {
  it('still imports a Character-LLM file for a character', async () => {
    const file = input('beethoven.jsonl', GOOD);
    const r = await run('import-characterllm', file, '--character', 'Beethoven');
    expect(r.code).toBe(0);
    const out = join(home, 'imports', 'characterllm-beethoven.jsonl');
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ scene: 'seed_1', location: 'Vienna' });
  });

  it('a failed import (0 pairs, exit 1) leaves the earlier good output as it was', async () => {
    const good = input('good.jsonl', GOOD);
    const out = join(home, 'imports', 'characterllm-beethoven.jsonl');
    expect((await run('import-characterllm', good, '--character', 'Beethoven')).code).toBe(0);
    const before = readFileSync(out, 'utf8');
    const empty = input('newton.jsonl', scene('Halley: Comets?<|eot|>\nNewton: Yes.<|eot|>'));
    for (const extra of [[], ['--force']]) {
      const r = await run('import-characterllm', empty, '--character', 'Beethoven', ...extra);
      expect(r.code).toBe(1);
      // Beethoven is not in the file: said, with who is (issue 21), and nothing written.
      expect(r.err).toContain(
        'Beethoven does not speak in any of its 1 scenes; the speakers are Halley, Newton',
      );
      expect(readFileSync(out, 'utf8')).toBe(before);
    }
    expect(readdirSync(join(home, 'imports'))).toEqual(['characterllm-beethoven.jsonl']);
  });

  it('says a chat file is not a Character-LLM file instead of skipping every line', async () => {
    const file = input('chat.jsonl', [chat('Q?', 'A.'), chat('Q2?', 'A2.')].join('\n'));
    const r = await run('import-characterllm', file, '--character', 'Beethoven');
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      'is not a Character-LLM (prompted JSONL or generated JSON) file; it looks like chat JSONL',
    );
    expect(r.err).not.toContain('no output field');
    expect(existsSync(join(home, 'imports'))).toBe(false);
  });

  it('still needs --character', async () => {
    const r = await run('import-characterllm', input('x.jsonl', GOOD));
    expect(r.code).toBe(1);
    expect(r.err).toContain('name the character, e.g. --character Beethoven');
  });
});
