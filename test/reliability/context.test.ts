/**
 * Issue 21, item 5: a constitution longer than the teacher's context is refused before a run
 * is created, with the numbers (its tokens, what the teacher needs, the context), instead of a
 * pipeline that sits at generate 0/24. The real CLI and engine, on the tiny random model (a
 * 2,048-token context); the check's arithmetic is also tested alone.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkContextFit,
  modelContextLength,
  QUESTION_TOKEN_ALLOWANCE,
} from '../../src-main/runs/context-check';
import { buildTinyModel, cli, jsonOut } from './helpers';

const work = mkdtempSync(join(tmpdir(), 'rel-context-'));
const model = join(work, 'tiny');
beforeAll(() => buildTinyModel(model));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('item 5: the constitution against the teacher context', () => {
  it('does the arithmetic with the numbers in the message', () => {
    expect(modelContextLength({ source: 'local', path: model })).toBe(2048);
    expect(modelContextLength({ source: 'default' })).toBe(8192);
    expect(checkContextFit(1000, 64, 2048, 'tiny').needed).toBe(1000 + QUESTION_TOKEN_ALLOWANCE + 64);
    expect(() => checkContextFit(65_000, 32, 8192, 'SmolLM2')).toThrow(
      /65000 tokens; .* needs 65288 tokens, but SmolLM2 has a 8192-token context: shorten the constitution by at least 57096 tokens/,
    );
  });

  it('refuses a 10,000-directive constitution before any run exists', async () => {
    const home = join(work, 'home');
    mkdirSync(home, { recursive: true });
    const directives = Array.from(
      { length: 2_000 },
      (_, i) => `    - I keep rule number ${i} of the sea`,
    ).join('\n');
    const file = join(home, 'huge.yaml');
    writeFileSync(
      file,
      `meta:\n  id: huge-captain\n  name: Huge Captain\n  version: 1\n  description: too long\npersona:\n  identity: I am a captain with many rules.\ndirectives:\n  personality:\n${directives}\n`,
    );
    const saved = await cli(['constitution', 'save', file], home);
    expect(saved.code, saved.stderr).toBe(0);
    const r = await cli(['pipeline', 'huge-captain', '--scale', 'smoke', '--model', `local:${model}`], home, {
      timeoutMs: 240_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /the teacher needs \d+ tokens, but .* has a 2048-token context: shorten the constitution/,
    );
    const runs = jsonOut<unknown[]>(await cli(['runs', '--json'], home));
    expect(runs).toEqual([]);
  });
});
