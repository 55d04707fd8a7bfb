/**
 * Issue 21, items 3, 4, 6, 7 and the vague messages about files: what a hostile new user gives
 * the CLI (names in other scripts, an import over its own source, absurd numbers, an empty
 * configuration, Notepad's UTF-16, a CSV, a folder where a file belongs) is refused or read,
 * each with a message that names the problem. The CLI runs in this process (`main`), over a
 * data folder of its own.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli/main';
import { trainingOverridesFromYaml } from '../../src-main/cli/training-yaml';
import { checkTrainingConfig } from '../../src-main/core/training-config';
import { MAX_CHECKPOINTS_PER_JOB, MAX_TRAIN_STEPS } from '../../src-main/core/limits';
import { decodeText } from '../../src-main/core/text-file';
import { trainingDefaults } from '../../src-main/core/scales';
import { personaLibrary, slugify } from '../../src-main/personas';
import { openStore } from '../../src-main/store';

let home: string;
const saved = process.env.CHARACTER_STUDIO_HOME;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'rel-inputs-'));
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

function file(name: string, content: string | Buffer): string {
  const path = join(home, name);
  writeFileSync(path, content);
  return path;
}

const textPersona = (name: string): string =>
  `# ${name}\n${'I sail the seas and speak in the voice of an old captain who has seen every port. '.repeat(2)}\n`;

const chatLine = (q: string, a: string): string =>
  JSON.stringify({
    messages: [
      { role: 'user', content: q },
      { role: 'assistant', content: a },
    ],
  });

describe('item 3: names in any script', () => {
  it('gives different characters different ids, and never makes one a version of another', () => {
    expect(slugify('Пират Иван')).toBe('pirat-ivan');
    const a = slugify('海賊の太郎');
    const b = slugify('山田花子');
    expect(a).not.toBe('persona');
    expect(a).not.toBe(b);
    expect(slugify('海賊の太郎')).toBe(a); // the same name, the same id
    expect(slugify('Ada Lovelace')).toBe('ada-lovelace');

    const store = openStore(':memory:');
    const lib = personaLibrary(store, []);
    const ivan = lib.save(textPersona('Пират Иван'), 'text');
    const taro = lib.save(textPersona('海賊の太郎'), 'text');
    expect(ivan.id).not.toBe(taro.id);
    expect(taro.version).toBe(1);
    expect(lib.get(ivan.id).name).toBe('Пират Иван');
    // Two names that spell the same id: the second is refused, naming both.
    lib.save(textPersona('Ada Lovelace'), 'text');
    expect(() => lib.save(textPersona('ADA  lovelace!'), 'text')).toThrow(
      /would be saved as "ada-lovelace", which is already "Ada Lovelace"/,
    );
    store.close();
  });
});

describe('item 4: an import whose output is its input', () => {
  it('is refused with or without --force, and the source stays as it was', async () => {
    const text = `${chatLine('Who are you?', 'A composer.')}\n`;
    const src = file('data.jsonl', text);
    for (const extra of [[], ['--force']]) {
      const r = await run('import', src, '--out', src, ...extra);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/is the file being imported/);
      expect(r.err).not.toMatch(/earlier import/);
      expect(readFileSync(src, 'utf8')).toBe(text);
    }
  });

  it('names a folder given as --out instead of a raw EISDIR', async () => {
    const src = file('data.jsonl', `${chatLine('Who are you?', 'A composer.')}\n`);
    const dir = join(home, 'outdir');
    mkdirSync(dir);
    const r = await run('import', src, '--out', dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/is a folder: give the output a file name/);
    expect(r.err).not.toMatch(/EISDIR/);
  });

  it('says a CSV is not an import layout, reads JSONL whose lines are arrays line by line, and lists the speakers', async () => {
    const csv = await run('import', file('pairs.csv', 'question,answer\nWho are you?,A composer.\n'));
    expect(csv.code).toBe(1);
    expect(csv.err).toMatch(/is CSV \(comma-separated\), which is not an import layout/);
    const arrays = await run(
      'import',
      file('arrays.jsonl', '["Who are you?", "A composer."]\n["Why?", "Music."]\n'),
    );
    expect(arrays.code).toBe(1);
    expect(arrays.err).toMatch(/arrays\.jsonl:1: cannot tell the layout: the record is a list/);
    const scene = JSON.stringify({
      prompt: 'Act like Beethoven.\nLocation: Vienna\n',
      output: 'Karl: Uncle?<|eot|>\nBeethoven: Yes, boy.<|eot|>',
      source: 'seed_1',
    });
    const mozart = await run('import-characterllm', file('cl.jsonl', `${scene}\n`), '--character', 'Mozart');
    expect(mozart.code).toBe(1);
    expect(mozart.err).toMatch(
      /Mozart does not speak in any of its 1 scenes; the speakers are (Karl, Beethoven|Beethoven, Karl)/,
    );
  });
});

describe('item 6: numbers have upper bounds, named in the error', () => {
  it('refuses --max-steps 1e12 and other absurd flags before anything opens', async () => {
    const steps = await run('train', 'no-such-run', '--max-steps', '1e12');
    expect(steps.code).toBe(1);
    expect(steps.err).toMatch(new RegExp(`--max-steps must be a whole number from 1 to ${MAX_TRAIN_STEPS}`));
    const kd = await run('train', 'no-such-run', '--kd-weight', '1e9');
    expect(kd.err).toMatch(/--kd-weight must be a number from 0 to 10/);
    const turns = await run('pipeline', 'beethoven', '--recipe', 'character', '--interaction-turns', '500');
    expect(turns.err).toMatch(/--interaction-turns must be a whole number from 2 to 10/);
    const port = await run('serve-model', '--port', '70000');
    expect(port.err).toMatch(/--port must be a whole number from 0 to 65535/);
  });

  it('bounds configuration values the same way, and the checkpoints a job writes', () => {
    const base = trainingDefaults('smoke');
    const fields = (c: Partial<typeof base>): string[] =>
      checkTrainingConfig({ ...base, ...c }).map((p) => `${p.field}: ${p.message}`);
    expect(fields({ maxSteps: 1e12 }).join('\n')).toMatch(
      /maxSteps: max steps must be an integer from 1 to 100000/,
    );
    expect(fields({ gradAccum: 1e9 }).join('\n')).toMatch(/gradAccum: .* from 1 to 1024/);
    expect(fields({ seed: 2 ** 40 }).join('\n')).toMatch(/seed: .* from 0 to 4294967295/);
    expect(fields({ maxSteps: 10_000, saveEvery: 6 }).join('\n')).toMatch(
      new RegExp(`writes 1667 checkpoints; at most ${MAX_CHECKPOINTS_PER_JOB} per job`),
    );
    // The shipped scales stay inside every bound.
    for (const scale of ['smoke', 'mini', 'paper'] as const)
      expect(checkTrainingConfig(trainingDefaults(scale))).toEqual([]);
  });
});

describe('item 7 and the vague file messages: configuration files', () => {
  it('refuses an empty --config, and one that sets nothing', () => {
    expect(() => trainingOverridesFromYaml('', 'empty.yaml')).toThrow(/empty\.yaml:1: \(file\) is empty/);
    expect(() => trainingOverridesFromYaml('# nothing\n\n', 'c.yaml')).toThrow(/is empty/);
    expect(() => trainingOverridesFromYaml('training:\n', 'c.yaml')).toThrow(/sets no training setting/);
  });

  it('names a folder given as --config, and reads a UTF-16 one', async () => {
    const dir = join(home, 'cfg');
    mkdirSync(dir);
    const r = await run('train', 'no-such-run', '--config', dir);
    // The run is looked up first; with a run, the folder is named (checked below on its reader).
    expect(r.code).toBe(1);
    const { readUserTextFile } = await import('../../src-main/core/text-file');
    expect(() => readUserTextFile(dir, 'the training configuration')).toThrow(
      new RegExp(`cannot read the training configuration ${dir}: it is a folder, not a file`),
    );
    const yaml = 'training:\n  max_steps: 5\n';
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(yaml, 'utf16le')]);
    expect(trainingOverridesFromYaml(readUserTextFile(file('c16.yaml', utf16)).text)).toEqual({
      maxSteps: 5,
    });
  });

  it('decodes UTF-16 and UTF-32 with or without a byte-order mark', () => {
    const text = 'meta:\n  name: Пират\n';
    const le32 = Buffer.alloc(text.length * 4);
    [...text].forEach((ch, i) => le32.writeUInt32LE(ch.codePointAt(0)!, i * 4));
    const be32 = Buffer.alloc(le32.length);
    [...text].forEach((ch, i) => be32.writeUInt32BE(ch.codePointAt(0)!, i * 4));
    expect(decodeText(le32).text).toBe(text);
    expect(decodeText(be32).text).toBe(text);
    expect(decodeText(Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), le32])).encoding).toBe(
      'UTF-32 LE (converted)',
    );
    expect(decodeText(Buffer.from(text, 'utf16le')).text).toBe(text);
  });

  it('saves a UTF-16 constitution, and lists every problem of a bad one', async () => {
    const src = textPersona('Captain Notepad');
    const utf16 = file('cap.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(src, 'utf16le')]));
    const ok = await run('constitution', 'save', utf16);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/saved captain-notepad v1/);
    const bad = file('bad.yaml', 'meta:\n  version: 0\npersona:\n  identity: 3\n');
    const r = await run('constitution', 'save', bad);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Persona is invalid \((\d+) problem\(s\)\)/);
    const count = Number(/\((\d+) problem/.exec(r.err)![1]);
    expect(count).toBeGreaterThan(1);
    expect(r.err.match(/\n {2}line \d+/g)).toHaveLength(count);
    expect(r.err).toMatch(/meta\.version/);
  });
});

describe('pipeline --resume with flags it cannot honour', () => {
  it('refuses them by name instead of dropping them', async () => {
    const r = await run(
      'pipeline',
      '--resume',
      'some-run',
      '--objective',
      'sft',
      '--max-steps',
      '5',
      'beethoven',
    );
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /pipeline --resume some-run: the persona "beethoven", --objective, --max-steps cannot be applied/,
    );
    expect(r.err).toMatch(/character train some-run/);
  });
});
