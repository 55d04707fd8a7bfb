/**
 * A served teacher with top_logprobs for kd, on the engine's own OpenAI-compatible server as a
 * stand-in for vLLM: the provider asks for logprobs with several requests in flight, the engine
 * writes the answers' teacher top-k files with the student's tokenizer, and train_kd trains on
 * them; the bench row of the same path runs and its greedy answers do not depend on concurrency.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src-shared/engine-protocol';
import { endpointTeacherRows, measureEndpointTeacher } from '../bench/endpoint-teacher';
import { EngineClient } from '../../src-main/engine/client';
import { startModelServer, type ModelServer } from '../../src-main/engine/model-server';
import { createTeacherProvider } from '../../src-main/providers';

const ROOT = resolve(__dirname, '..', '..');
const PYTHON = join(ROOT, 'engine', '.venv', 'bin', 'python');
const SYSTEM = 'You are Ludwig van Beethoven. Answer with passion about music, Vienna and fate.';
const QUESTIONS = ['What is music to you?', 'Tell me about Vienna.', 'Who taught you?', 'Do you fear fate?'];

let work: string;
let model: ModelSpec;
let engine: EngineClient;
let server: ModelServer;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'cs-endpoint-'));
  const dir = join(work, 'tiny-model');
  const built = spawnSync(PYTHON, ['-m', 'character_dev.tiny', dir], {
    cwd: join(ROOT, 'engine'),
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`tiny model build failed: ${built.stderr}`);
  model = { source: 'local', path: dir };
  const env = { ...process.env, CHARACTER_ENGINE_THREADS: '1' } as Record<string, string>;
  engine = new EngineClient({ env });
  server = await startModelServer({ model, modelId: 'teacher', port: 0, maxBatch: 4, env });
});

afterAll(async () => {
  await server?.close();
  await engine?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('an OpenAI-compatible teacher with top_logprobs (the engine server as vLLM stand-in)', () => {
  it('captures the answers’ top-k through the endpoint and kd trains on them', async () => {
    const provider = createTeacherProvider({
      endpoint: { baseUrl: server.url, model: server.model, apiKey: '', concurrency: 4, topLogprobs: 8 },
      engine,
      localModel: model,
    });
    expect(provider.capturesDistributions).toBe(true);
    const items = QUESTIONS.map((q, i) => ({
      system: SYSTEM,
      messages: [{ role: 'user' as const, content: q }],
      topkPath: join(work, 'topk', `${i}.safetensors`),
    }));
    const out = await provider.generate(
      items,
      { temperature: 0.7, top_p: 0.95, max_new_tokens: 12, seed: 5 },
      { captureTopK: 64 },
    );
    expect(out).toHaveLength(4);
    for (const [i, o] of out.entries()) {
      expect(existsSync(items[i]!.topkPath), items[i]!.topkPath).toBe(true);
      expect(o.topkTokens).toBeGreaterThan(0);
      // OpenAI's logprobs leave the stop token out: one row fewer when the answer stopped.
      expect(o.topkTokens).toBe((o.completionTokens ?? 0) - (o.finishReason === 'stop' ? 1 : 0));
    }
    const rows = QUESTIONS.map((q, i) =>
      JSON.stringify({
        messages: [
          { role: 'user', content: q },
          { role: 'assistant', content: out[i]!.text.trim() },
        ],
        teacher_topk: items[i]!.topkPath,
      }),
    );
    const train = join(work, 'train.jsonl');
    writeFileSync(train, `${rows.join('\n')}\n`);
    const result = await engine.call('train_kd', {
      model,
      train_path: train,
      output_dir: join(work, 'kd'),
      lora: { r: 4, alpha: 8, dropout: 0, target_modules: [] },
      learning_rate: 1e-3,
      warmup_steps: 0,
      schedule: 'constant',
      batch_size: 2,
      grad_accum: 1,
      max_steps: 2,
      max_length: 128,
      eval_every: 0,
      save_every: 0,
      seed: 0,
    });
    expect(result.steps).toBe(2);
    expect(result.train_loss).toBeGreaterThan(0);
  });

  it('gives the bench rows: concurrency, capture overhead, answers independent of batching', async () => {
    const r = await measureEndpointTeacher({
      model,
      engine,
      system: SYSTEM,
      questions: QUESTIONS,
      maxTokens: 8,
      concurrency: 4,
      topLogprobs: 8,
    });
    expect(r.runs.map((x) => [x.concurrency, x.captured])).toEqual([
      [1, false],
      [4, false],
      [4, true],
    ]);
    expect(r.runs[2]!.topkRows).toBeGreaterThan(0);
    expect(r.sameAnswers).toBe(true);
    const rows = endpointTeacherRows(r);
    expect(rows).toHaveLength(3);
    expect(rows.every((row) => Number.isFinite(row.value))).toBe(true);
  });
});
