/**
 * The Data page's channels (issue #10 item 7): data:import writes a file's pairs into the
 * imports folder (refusing to replace an earlier one unless forced, writing nothing when no
 * pair was found), data:imports lists that folder, and runs:create with data makes a run on it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiChannel, ApiResponse } from '../../../src-shared/contract';
import { MemorySettingsStore } from '../../../src-main/core/settings';
import { EngineClient } from '../../../src-main/engine/client';
import { createHandlers, dispatch, type Handlers } from '../../../src-main/handlers';
import { openStudio, type Studio } from '../../../src-main/studio/studio';

let dataDir: string;
let studio: Studio;
let engine: EngineClient;
let handlers: Handlers;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'data-import-'));
  engine = new EngineClient({ python: '/nonexistent/python-never-started' });
  studio = await openStudio({ dataDir, settings: new MemorySettingsStore({ dataDir }), engine });
  handlers = createHandlers({ ...studio, app: { version: '0', electron: false } });
});

afterEach(async () => {
  await engine.close();
  await studio.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function errorOf(
  channel: string,
  params: unknown,
): Promise<{ code: string; message: string; detail?: unknown }> {
  const reply: ApiResponse<ApiChannel> = await dispatch(handlers, channel, params, () => undefined);
  if (reply.ok) throw new Error(`${channel} unexpectedly succeeded`);
  return reply.error;
}

function sharegpt(n: number, name = 'convs.jsonl'): string {
  const path = join(dataDir, name);
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      conversations: [
        { from: 'human', value: `Maestro, question ${i + 1}?` },
        { from: 'gpt', value: `Answer ${i + 1}, with a storm in it.` },
      ],
    }),
  );
  writeFileSync(path, lines.join('\n'));
  return path;
}

describe('data:import and data:imports', () => {
  it('imports a file into the imports folder and lists it', async () => {
    const file = sharegpt(5);
    const summary = await handlers['data:import']({ path: file });
    expect(summary).toMatchObject({
      file,
      out: join(dataDir, 'imports', 'sharegpt-convs.jsonl'),
      format: 'sharegpt',
      layout: 'ShareGPT (conversations)',
      encoding: 'UTF-8',
      pairs: 5,
      skippedCount: 0,
    });
    expect(summary.preview[0]).toEqual({
      question: 'Maestro, question 1?',
      answer: 'Answer 1, with a storm in it.',
    });
    const list = await handlers['data:imports'](undefined);
    expect(list).toEqual([
      expect.objectContaining({ name: 'sharegpt-convs.jsonl', pairs: 5, path: summary.out }),
    ]);
  });

  it('replaces an earlier import only with force', async () => {
    const file = sharegpt(5);
    await handlers['data:import']({ path: file });
    sharegpt(7);
    expect(await errorOf('data:import', { path: file })).toMatchObject({ code: 'conflict' });
    expect(
      readFileSync(join(dataDir, 'imports', 'sharegpt-convs.jsonl'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(5);
    expect((await handlers['data:import']({ path: file, force: true })).pairs).toBe(7);
  });

  it('names the line of a malformed file and the layout a mismatched one has; writes nothing', async () => {
    const bad = join(dataDir, 'bad.jsonl');
    writeFileSync(bad, '{"conversations": []}\n{"conversations": [{"from": "human"}]}\n');
    const e = await errorOf('data:import', { path: bad });
    expect(e).toMatchObject({ code: 'invalid_input', detail: { line: 1 } });
    expect(e.message).toMatch(/gave no question -> answer pairs \(line 1: no user message answered/);
    const mismatch = await errorOf('data:import', { path: sharegpt(2), format: 'alpaca' });
    expect(mismatch.message).toContain('it looks like ShareGPT (conversations)');
    expect(await errorOf('data:import', { path: 'relative.jsonl' })).toMatchObject({
      code: 'invalid_params',
    });
    expect(await errorOf('data:import', { path: bad, format: 'yaml' })).toMatchObject({
      code: 'invalid_params',
    });
    expect(await handlers['data:imports'](undefined)).toEqual([]);
  });
});

describe('runs:create with imported data', () => {
  it('creates a run that takes its questions and answers from an import', async () => {
    const summary = await handlers['data:import']({ path: sharegpt(10) });
    const run = await handlers['runs:create']({
      personaId: 'beethoven',
      scale: 'smoke',
      data: { path: summary.out, use: 'teacher' },
    });
    expect(studio.store.runs.require(run.id).config.importedData).toEqual({
      path: summary.out,
      format: 'chat',
      use: 'teacher',
      character: null,
    });
    expect(
      await errorOf('runs:create', {
        personaId: 'beethoven',
        scale: 'smoke',
        data: { path: summary.out, use: 'x' },
      }),
    ).toMatchObject({ code: 'invalid_params' });
  });
});
