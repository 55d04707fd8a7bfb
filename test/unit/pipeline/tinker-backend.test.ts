/**
 * The tinker backend's TypeScript side without an engine: the run configuration (optional,
 * default local; configs stored without it still parse), the CLI flags, the services the train
 * step gets (training calls rerouted to tinker_train, nothing else), the Tinker teacher, and the
 * API key kept out of redacted settings.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EngineMethod } from '../../../src-shared/engine-protocol';
import { backendOption } from '../../../src-main/cli/backend-flags';
import { tinkerRunConfig } from '../../../src-main/core/backend';
import { defaultRunConfig, parseRunConfig } from '../../../src-main/core/run-config';
import { MemorySettingsStore, redactSettings } from '../../../src-main/core/settings';
import type { EngineClient } from '../../../src-main/engine/client';
import type { StepContext } from '../../../src-main/pipeline/runner';
import type { PipelineServices } from '../../../src-main/pipeline/services';
import { isTinkerPath, trainerFor } from '../../../src-main/pipeline/tinker';
import { TinkerTeacherProvider } from '../../../src-main/providers/tinker';
import type { RunRecord } from '../../../src-main/store';
import { runHandlers } from '../../../src-main/handlers/runs';
import { createRun } from '../../../src-main/runs/create-run';
import { openStudio } from '../../../src-main/studio/studio';

const stored = (): Record<string, unknown> =>
  JSON.parse(JSON.stringify(defaultRunConfig('smoke', 'Beethoven'))) as Record<string, unknown>;

interface Call {
  method: EngineMethod;
  params: Record<string, unknown>;
}

function fakeEngine(calls: Call[]): EngineClient {
  return {
    call: (method: EngineMethod, params: Record<string, unknown>) => {
      calls.push({ method, params });
      return Promise.resolve({ method });
    },
    pythonPath: '/usr/bin/python3',
  } as unknown as EngineClient;
}

function context(config: Record<string, unknown>): StepContext {
  return { run: { config: parseRunConfig(config, 'r1') } as unknown as RunRecord } as StepContext;
}

describe('tinker backend configuration', () => {
  it('parses stored configs without a backend, with one, and refuses unknown ones', () => {
    const base = stored();
    const local = parseRunConfig(base, 'r1');
    expect(local).not.toHaveProperty('backend');
    expect(local).not.toHaveProperty('tinker');
    const tinker = { baseModel: 'Qwen/Qwen3-4B', teacherModel: 'Qwen/Qwen3-30B-A3B' };
    const remote = parseRunConfig({ ...base, backend: 'tinker', teacherProvider: 'tinker', tinker }, 'r1');
    expect(remote.backend).toBe('tinker');
    expect(remote.tinker).toEqual(tinker);
    expect(remote.teacherProvider).toBe('tinker');
    expect(() => parseRunConfig({ ...base, backend: 'modal' }, 'r1')).toThrow(
      /backend must be one of local, tinker/,
    );
    expect(() => parseRunConfig({ ...base, tinker: { baseModel: 'x' } }, 'r1')).toThrow(
      /tinker\.teacherModel/,
    );
  });

  it('names Tinker models from hub ids unless given, and refuses a local folder without a name', () => {
    const hub = { source: 'hub', repo_id: 'Qwen/Qwen3-4B' } as const;
    expect(tinkerRunConfig({}, hub, hub)).toEqual({
      baseModel: 'Qwen/Qwen3-4B',
      teacherModel: 'Qwen/Qwen3-4B',
    });
    expect(tinkerRunConfig({}, hub, { source: 'hub', repo_id: 'Qwen/Qwen3-30B-A3B' }).teacherModel).toBe(
      'Qwen/Qwen3-30B-A3B',
    );
    const folder = { source: 'local', path: '/m' } as const;
    expect(() => tinkerRunConfig({}, folder, folder)).toThrow(/--tinker-model/);
    expect(tinkerRunConfig({ baseModel: 'tiny/chat' }, folder, folder)).toEqual({
      baseModel: 'tiny/chat',
      teacherModel: 'tiny/chat',
    });
  });

  it('reads --backend and the Tinker model flags', () => {
    expect(backendOption('pipeline', {})).toEqual({});
    expect(backendOption('pipeline', { backend: 'tinker', 'tinker-model': 'a/b' })).toEqual({
      backend: 'tinker',
      tinker: { baseModel: 'a/b' },
    });
    expect(() => backendOption('pipeline', { backend: 'gpu' })).toThrow(/unknown backend "gpu"/);
    expect(() => backendOption('pipeline', { 'tinker-model': 'a/b' })).toThrow(/need --backend tinker/);
  });

  it('keeps the Tinker key out of redacted settings', () => {
    const settings = new MemorySettingsStore({ tinker: { apiKey: 'tk-1' } });
    const red = redactSettings(settings.all());
    expect(red.tinker?.apiKey).toBe('***');
    expect(JSON.stringify(red)).not.toContain('tk-1');
  });
});

describe('trainerFor', () => {
  const tinker = { baseModel: 'Qwen/Qwen3-4B', teacherModel: 'Qwen/Qwen3-30B-A3B' };

  it('sends every training call of a Tinker run to tinker_train', async () => {
    const calls: Call[] = [];
    const services = {
      engine: fakeEngine(calls),
      settings: new MemorySettingsStore({ tinker: { apiKey: 'tk-2', baseUrl: 'https://t.example' } }),
    } as unknown as PipelineServices;
    const trainer = trainerFor(
      services,
      context({ ...stored(), backend: 'tinker', teacherProvider: 'tinker', tinker }),
    );
    const params = { train_path: '/t.jsonl' } as never;
    await trainer.train('train_sft', params);
    await trainer.train('train_kd', params);
    await trainer.train('train_dpo', params);
    await trainer.train('train_on_policy', params);
    expect(calls.map((c) => [c.method, c.params.objective])).toEqual([
      ['tinker_train', 'sft'],
      ['tinker_train', 'kd'],
      ['tinker_train', 'dpo'],
      ['tinker_train', 'on_policy'],
    ]);
    expect(calls[0]!.params.tinker).toEqual({
      base_model: 'Qwen/Qwen3-4B',
      teacher_model: 'Qwen/Qwen3-30B-A3B',
      api_key: 'tk-2',
      base_url: 'https://t.example',
    });
    expect(calls[0]!.params.train_path).toBe('/t.jsonl');
  });

  it('trains a local run on the local engine, each method as itself', async () => {
    const calls: Call[] = [];
    const services = {
      engine: fakeEngine(calls),
      settings: new MemorySettingsStore(),
    } as unknown as PipelineServices;
    const trainer = trainerFor(services, context(stored()));
    await trainer.train('train_kd', { train_path: '/t.jsonl' } as never);
    expect(calls.map((c) => [c.method, c.params.objective])).toEqual([['train_kd', undefined]]);
    expect(isTinkerPath('tinker://r:train:0/weights/step-000001')).toBe(true);
    expect(isTinkerPath('/home/u/run/jobs/j/checkpoints/step-000001')).toBe(false);
  });
});

describe('TinkerTeacherProvider', () => {
  it('asks tinker_generate for the teacher model, caps top-k at 20 and maps the outputs', async () => {
    const calls: Call[] = [];
    const client = {
      call: (method: EngineMethod, params: Record<string, unknown>) => {
        calls.push({ method, params });
        const items = params.items as unknown[];
        return Promise.resolve({
          outputs: items.map((_, i) => ({
            text: `answer ${i}`,
            prompt_tokens: 10,
            completion_tokens: 5,
            ttft_ms: null,
            total_ms: 40,
            finish_reason: 'stop',
            topk_tokens: 5,
          })),
          tokens_per_s: 1,
          wall_ms: 1,
        });
      },
    } as unknown as EngineClient;
    const provider = new TinkerTeacherProvider({
      client,
      target: { base_model: 'a/s', teacher_model: 'a/t', api_key: 'k' },
      chunkSize: 2,
    });
    expect(provider.model).toBe('tinker:a/t');
    const items = [0, 1, 2].map((i) => ({
      system: 'S',
      messages: [{ role: 'user' as const, content: `q${i}` }],
      topkPath: `/t/${i}.st`,
    }));
    const out = await provider.generate(
      items,
      { temperature: 0.6, top_p: 0.9, max_new_tokens: 8, seed: 1 },
      { captureTopK: 64 },
    );
    expect(calls).toHaveLength(2);
    expect(calls[0]!.method).toBe('tinker_generate');
    expect(calls[0]!.params.capture_topk).toEqual({ k: 20 });
    expect((calls[1]!.params.items as { topk_path: string }[])[0]!.topk_path).toBe('/t/2.st');
    expect(out.map((o) => o.text)).toEqual(['answer 0', 'answer 1', 'answer 0']);
    expect(out[0]).toMatchObject({ promptTokens: 10, completionTokens: 5, ttftMs: null, topkTokens: 5 });
  });
});

describe('creating a Tinker run', () => {
  it('stores the backend, the Tinker models and a Tinker teacher; kd with an endpoint needs topLogprobs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-tinker-run-'));
    const settings = new MemorySettingsStore({ dataDir: dir, tinker: { apiKey: 'tk-3' } });
    const studio = await openStudio({ dataDir: dir, settings, engine: fakeEngine([]) });
    try {
      const hub = { source: 'hub', repo_id: 'Qwen/Qwen3-4B-Instruct-2507' } as const;
      const run = createRun(studio, {
        personaId: 'beethoven',
        scale: 'smoke',
        studentModel: hub,
        backend: 'tinker',
      });
      expect(run.config).toMatchObject({
        backend: 'tinker',
        teacherProvider: 'tinker',
        tinker: { baseModel: 'Qwen/Qwen3-4B-Instruct-2507', teacherModel: 'Qwen/Qwen3-4B-Instruct-2507' },
      });
      expect(JSON.stringify(run.config)).not.toContain('tk-3');
      const local = createRun(studio, { personaId: 'beethoven', scale: 'smoke' });
      expect(local.config).not.toHaveProperty('backend');
      // Through the app's channel too.
      const created = await runHandlers({ ...studio, app: { version: 'test', electron: false } })[
        'runs:create'
      ]({
        personaId: 'beethoven',
        scale: 'smoke',
        backend: 'tinker',
        tinker: { baseModel: 'a/student', teacherModel: 'a/teacher' },
      });
      expect(studio.store.runs.require(created.id).config.tinker).toEqual({
        baseModel: 'a/student',
        teacherModel: 'a/teacher',
      });
      // An endpoint teacher: kd only when it returns top_logprobs.
      const endpoint = { baseUrl: 'http://127.0.0.1:9/v1', model: 'm', apiKey: '' };
      settings.set('teacherProvider', 'openai');
      settings.set('openai', endpoint);
      expect(() =>
        createRun(studio, { personaId: 'beethoven', scale: 'smoke', training: { objective: 'kd' } }),
      ).toThrow(/set topLogprobs/);
      settings.set('openai', { ...endpoint, topLogprobs: 20 });
      const kd = createRun(studio, { personaId: 'beethoven', scale: 'smoke', training: { objective: 'kd' } });
      expect(kd.config.scaleConfig.training.objective).toBe('kd');
    } finally {
      await studio.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
