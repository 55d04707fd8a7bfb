// EngineClient against the REAL Python engine (engine/.venv, python -m character_engine) and a
// tiny RANDOM chat model built locally with `python -m character_dev.tiny` (gibberish text:
// it tests mechanics, never quality).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineClient, defaultEnginePython, repoRoot } from '../../src-main/engine/client';
import {
  EngineCancelledError,
  EngineError,
  EngineExitedError,
  EngineInvalidParamsError,
  EngineModelError,
  EngineTimeoutError,
} from '../../src-main/engine/errors';
import { LocalEngineProvider } from '../../src-main/providers';
import { measureSavings } from '../../src-main/savings';
import type { EngineEvent, ModelSpec, SamplingParams } from '../../src-shared/engine-protocol';

const env = { HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' };
let tmp: string;
let tiny: ModelSpec;
let client: EngineClient;
const stderr: string[] = [];
const greedy = (maxNew: number): SamplingParams => ({
  temperature: 0,
  top_p: 1,
  max_new_tokens: maxNew,
  seed: 0,
});

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'engine-client-'));
  const dir = path.join(tmp, 'tiny-random-model');
  execFileSync(defaultEnginePython(), ['-m', 'character_dev.tiny', dir], {
    cwd: path.join(repoRoot(), 'engine'),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  tiny = { source: 'local', path: dir };
  client = new EngineClient({ env, logger: (line, source) => stderr.push(`${source}: ${line}`) });
});

afterAll(async () => {
  await client?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('EngineClient with the real engine', () => {
  it('answers health', async () => {
    const h = await client.health();
    expect(h.pid).toBe(client.stats().pid);
    expect(h.device).toBe('cpu');
    expect(h.versions.torch).toMatch(/^\d/);
    expect(client.stats().protocolErrors).toBe(0);
  });

  it('maps an unknown method to a typed error with its code', async () => {
    const err = await client.call('no_such_method' as never, {} as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ code: 'unknown_method', method: 'no_such_method' });
  });

  it('maps invalid params to EngineInvalidParamsError naming the parameter', async () => {
    const err = await client
      .call('generate', { model: tiny, items: 'nope', sampling: greedy(4) } as never)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineInvalidParamsError);
    expect((err as EngineInvalidParamsError).param).toBe('items');
  });

  it('maps a missing model to EngineModelError', async () => {
    const err = await client
      .call('load_model', { model: { source: 'local', path: path.join(tmp, 'missing') } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineModelError);
    expect(err).toMatchObject({ code: 'model_not_found' });
  });

  it('generates with the tiny random model, streaming token and progress events', async () => {
    const events: EngineEvent[] = [];
    const r = await client.call(
      'generate',
      {
        model: tiny,
        items: [
          { system: 'You are Beethoven.', messages: [{ role: 'user', content: 'Who are you?' }] },
          { system: 'You are Beethoven.', messages: [{ role: 'user', content: 'What is music?' }] },
        ],
        sampling: greedy(8),
        stream: true,
      },
      { onEvent: (e) => events.push(e) },
    );
    expect(r.outputs).toHaveLength(2);
    for (const o of r.outputs) {
      expect(o.prompt_tokens).toBeGreaterThan(5);
      expect(o.completion_tokens).toBeGreaterThan(0);
      expect(o.completion_tokens).toBeLessThanOrEqual(8);
      expect(o.total_ms).toBeGreaterThan(0);
    }
    expect(events.some((e) => e.event === 'token')).toBe(true);
    const progress = events.filter((e) => e.event === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[progress.length - 1]).toMatchObject({ done: 2, total: 2, fraction: 1 });
  });

  it('cancels a long generation through an AbortSignal and the engine serves the next call', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const p = client.call(
      'generate',
      {
        model: tiny,
        items: [{ messages: [{ role: 'user', content: 'Talk for a long time.' }] }],
        sampling: greedy(100_000),
        stream: true,
      },
      { signal: ac.signal, onEvent: (e) => (e.event === 'token' ? ac.abort() : undefined) },
    );
    await expect(p).rejects.toBeInstanceOf(EngineCancelledError);
    // The single engine worker must be free again: a short generation gets through promptly.
    const r = await client.call('generate', {
      model: tiny,
      items: [{ messages: [{ role: 'user', content: 'Hi' }] }],
      sampling: greedy(2),
    });
    expect(r.outputs).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('times out a call with EngineTimeoutError and cancels it in the engine', async () => {
    const err = await client
      .call(
        'generate',
        {
          model: tiny,
          items: [{ messages: [{ role: 'user', content: 'Go on.' }] }],
          sampling: greedy(100_000),
        },
        { timeoutMs: 500 },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineTimeoutError);
    expect(err).toMatchObject({ code: 'timeout', method: 'generate', timeoutMs: 500 });
    const h = await client.health();
    expect(h.pid).toBe(client.stats().pid);
  });

  it('rejects with EngineExitedError when the engine is killed mid-call, then restarts', async () => {
    const firstPid = (await client.health()).pid;
    const starts = client.stats().starts;
    const p = client.call(
      'generate',
      {
        model: tiny,
        items: [{ messages: [{ role: 'user', content: 'Go on.' }] }],
        sampling: greedy(100_000),
        stream: true,
      },
      { onEvent: (e) => (e.event === 'token' ? process.kill(firstPid, 'SIGKILL') : undefined) },
    );
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineExitedError);
    expect(err).toMatchObject({ code: 'engine_exited', signal: 'SIGKILL', method: 'generate' });
    expect(client.running).toBe(false);
    const h = await client.health();
    expect(h.pid).not.toBe(firstPid);
    expect(client.stats().starts).toBe(starts + 1);
  });

  it('serves as a teacher through LocalEngineProvider, with token counts', async () => {
    const provider = new LocalEngineProvider({ client, model: tiny, chunkSize: 2 });
    const items = ['Who are you?', 'What is music?', 'Tell me about Vienna.'].map((q) => ({
      system: 'You are Ludwig van Beethoven, a composer from Bonn.',
      messages: [{ role: 'user' as const, content: q }],
    }));
    const progress: number[] = [];
    const out = await provider.generate(items, greedy(6), { onProgress: (p) => progress.push(p.done) });
    expect(out).toHaveLength(3);
    expect(
      out.every((o) => typeof o.text === 'string' && (o.promptTokens ?? 0) > 10 && o.ttftMs !== null),
    ).toBe(true);
    expect(progress[progress.length - 1]).toBe(3);
    const counts = await provider.countTokens(items);
    expect(counts).toEqual(out.map((o) => o.promptTokens));
    expect(provider.model).toBe('tiny-random-model');
  });

  it('measures savings inputs: the teacher pays for the system prompt in tokens', async () => {
    const m = await measureSavings(client, {
      model: tiny,
      systemPrompt: 'You are Ludwig van Beethoven. '.repeat(20),
      questions: ['Who are you?', 'What is music?'],
      sampling: greedy(4),
      warmup: false,
    });
    expect(m.teacher.n).toBe(2);
    expect(m.student.n).toBe(2);
    expect(m.teacher.promptTokens).toBeGreaterThan(m.student.promptTokens + 50);
    expect(m.teacher.latencyMs).toBeGreaterThan(0);
  });
});
