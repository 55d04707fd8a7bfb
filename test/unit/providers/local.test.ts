// LocalEngineProvider's chunking and field mapping, with a recording stub in place of the
// engine client (no model involved; the real engine is used in test/integration/engine-client.test.ts).
import { describe, expect, it } from 'vitest';
import {
  LocalEngineProvider,
  createTeacherProvider,
  OpenAICompatibleProvider,
} from '../../../src-main/providers';
import type { EngineClient } from '../../../src-main/engine/client';
import type { EngineMethods, GenerateOutput } from '../../../src-shared/engine-protocol';

type GenerateParams = EngineMethods['generate']['params'];

function recordingClient(calls: GenerateParams[]): Pick<EngineClient, 'call'> {
  return {
    call: (async (method: string, params: GenerateParams, opts?: { onEvent?: (e: unknown) => void }) => {
      if (method !== 'generate') throw new Error(`unexpected ${method}`);
      calls.push(params);
      const n = params.items.length;
      opts?.onEvent?.({ event: 'progress', phase: 'generate', done: 1, total: n, fraction: 1 / n });
      const outputs: GenerateOutput[] = params.items.map((it, i) => ({
        text: `answer to ${it.messages[0]?.content}`,
        prompt_tokens: 100 + i,
        completion_tokens: 5,
        ttft_ms: 40,
        total_ms: 400,
        finish_reason: 'length',
      }));
      return { outputs, tokens_per_s: 10, wall_ms: 400 };
    }) as Pick<EngineClient, 'call'>['call'],
  };
}

describe('LocalEngineProvider', () => {
  it('sends items in chunks with the model, adapter and batch size, and maps outputs in order', async () => {
    const calls: GenerateParams[] = [];
    const p = new LocalEngineProvider({
      client: recordingClient(calls),
      model: { source: 'default' },
      adapter: '/ckpt/step-100',
      chunkSize: 2,
    });
    const items = ['a', 'b', 'c', 'd', 'e'].map((q) => ({
      system: 'S',
      messages: [{ role: 'user' as const, content: q }],
    }));
    const progress: number[] = [];
    const out = await p.generate(
      items,
      { temperature: 0.15, top_p: 1, max_new_tokens: 9, seed: 3 },
      {
        onProgress: (e) => progress.push(e.done),
      },
    );
    expect(calls.map((c) => c.items.length)).toEqual([2, 2, 1]);
    expect(calls[0]).toMatchObject({
      model: { source: 'default' },
      adapter: '/ckpt/step-100',
      batch_size: 2,
      prefix_cache: true,
    });
    expect(calls[0]?.sampling.temperature).toBe(0.15);
    expect(out.map((o) => o.text)).toEqual(['a', 'b', 'c', 'd', 'e'].map((q) => `answer to ${q}`));
    expect(out[1]).toEqual({
      text: 'answer to b',
      promptTokens: 101,
      completionTokens: 5,
      latencyMs: 400,
      ttftMs: 40,
      finishReason: 'length',
    });
    expect(progress).toEqual([1, 2, 3, 4, 5, 5]);
    expect(p.model).toBe('SmolLM2-135M-Instruct + step-100');
  });
});

describe('createTeacherProvider', () => {
  const engine = recordingClient([]);
  it('uses the endpoint when one is configured, else the local engine', () => {
    const remote = createTeacherProvider({
      endpoint: { baseUrl: 'http://127.0.0.1:1/v1', model: 'big', apiKey: 'k' },
      engine,
      localModel: { source: 'default' },
    });
    expect(remote).toBeInstanceOf(OpenAICompatibleProvider);
    expect(remote.model).toBe('big');
    const local = createTeacherProvider({
      endpoint: { baseUrl: ' ', model: 'big', apiKey: '' },
      engine,
      localModel: { source: 'default' },
    });
    expect(local).toBeInstanceOf(LocalEngineProvider);
    expect(createTeacherProvider({ endpoint: null, engine, localModel: { source: 'default' } }).name).toBe(
      'local',
    );
  });
});
