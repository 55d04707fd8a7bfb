import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GenerateOutput } from '../../../src-shared/engine-protocol';
import type { EngineClient } from '../../../src-main/engine/client';
import { cachedGenerateAll, openAnswerCache } from '../../../src-main/evaluation/answer-cache';
import { answerWithoutPrompt } from '../../../src-main/evaluation/answers';
import { EvaluationProgress } from '../../../src-main/evaluation/progress';
import type { EvaluateInput } from '../../../src-main/evaluation/types';

interface GenerateCall {
  adapter?: string;
  items: { messages: { content: string }[] }[];
  sampling: { seed: number };
}

/** An engine that answers each prompt with a text that names the call it came from. */
function fakeEngine(version = '0.1.0'): { engine: EngineClient; calls: GenerateCall[] } {
  const calls: GenerateCall[] = [];
  const engine = {
    call: async (method: string, params: unknown): Promise<unknown> => {
      if (method === 'health')
        return { engine_version: version, device: 'cpu', dtype: 'float32', versions: { torch: '2' } };
      if (method !== 'generate') throw new Error(`unexpected ${method}`);
      const p = params as GenerateCall;
      calls.push(p);
      const outputs: GenerateOutput[] = p.items.map((it) => ({
        text: `call ${calls.length}: ${it.messages[0]?.content ?? ''}`,
        prompt_tokens: 3,
        completion_tokens: 5,
        ttft_ms: 1,
        total_ms: 2,
        finish_reason: 'stop',
      }));
      return { outputs, tokens_per_s: 1, wall_ms: 1 };
    },
  };
  return { engine: engine as unknown as EngineClient, calls };
}

const SAMPLING = { temperature: 0.6, top_p: 0.9, max_new_tokens: 8, seed: 0 };
const PROMPTS = ['a?', 'b?', 'c?', 'd?', 'e?'];

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cs-answer-cache-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the base answers cache', () => {
  it("returns a repeated request's answers without calling the engine, chunk by chunk", async () => {
    const { engine, calls } = fakeEngine();
    const input = {
      model: { source: 'default' as const },
      prompts: PROMPTS,
      sampling: SAMPLING,
      chunkSize: 2,
    };
    const first = await cachedGenerateAll(engine, await openAnswerCache(engine, dir), input);
    expect(calls).toHaveLength(3); // chunks of 2, 2, 1: generateAll's own chunks
    const cache = await openAnswerCache(engine, dir);
    const done: number[] = [];
    const again = await cachedGenerateAll(engine, cache, { ...input, onProgress: (d) => done.push(d) });
    expect(calls).toHaveLength(3);
    expect(again).toEqual(first);
    expect(cache).toMatchObject({ hits: 3, misses: 0 });
    expect(done).toEqual([2, 4, 5]);
  });

  it('misses when the sampling, the prompts or the engine differ, and on a torn file', async () => {
    const { engine, calls } = fakeEngine();
    const input = {
      model: { source: 'default' as const },
      prompts: PROMPTS.slice(0, 2),
      sampling: SAMPLING,
      chunkSize: 2,
    };
    await cachedGenerateAll(engine, await openAnswerCache(engine, dir), input);
    await cachedGenerateAll(engine, await openAnswerCache(engine, dir), {
      ...input,
      sampling: { ...SAMPLING, seed: 1 },
    });
    await cachedGenerateAll(engine, await openAnswerCache(engine, dir), { ...input, prompts: ['a?', 'x?'] });
    const other = fakeEngine('0.2.0');
    await cachedGenerateAll(other.engine, await openAnswerCache(other.engine, dir), input);
    expect(calls).toHaveLength(3);
    expect(other.calls).toHaveLength(1);
    for (const f of readdirSync(dir)) writeFileSync(join(dir, f), '[{"text": "half');
    await cachedGenerateAll(engine, await openAnswerCache(engine, dir), input);
    expect(calls).toHaveLength(4);
  });

  it('serves the base model only: the student (an adapter) is always generated', async () => {
    const { engine, calls } = fakeEngine();
    const input = {
      model: { source: 'default' },
      adapterPath: '/runs/r1/adapter',
      settings: { maxNewTokens: 8, temperature: 0.6, topP: 0.9 },
      answerCache: await openAnswerCache(engine, dir),
    } as unknown as EvaluateInput;
    const progress = new EvaluationProgress(100);
    for (let i = 0; i < 2; i++) {
      await answerWithoutPrompt(engine, input, 'student', PROMPTS, progress, 'student');
      await answerWithoutPrompt(engine, input, 'base', PROMPTS, progress, 'base');
    }
    const student = calls.filter((c) => c.adapter === '/runs/r1/adapter');
    const base = calls.filter((c) => c.adapter === undefined);
    expect(student).toHaveLength(2); // both rounds: one chunk of 5 each (EVAL_CHUNK 16)
    expect(base).toHaveLength(1); // the second round came from the cache
  });
});
