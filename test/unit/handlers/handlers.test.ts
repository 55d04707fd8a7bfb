/**
 * The handlers over a real in-memory store, the real persona library and the real pipeline
 * runner. The runner's step table here is made of small local functions (the real steps need
 * the Python engine and minutes); they let the tests hold a step open and check what the
 * handlers answer meanwhile. The engine client is real but never started.
 */
import { estimateGeneration } from '../../../src-main/providers';
import type { StudioEvents } from '../../../src-main/core/events';
import { openStudio, type Studio } from '../../../src-main/studio/studio';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  ApiChannel,
  ApiResponse,
  EventChannel,
  RunSummary,
  TrainingConfig,
} from '../../../src-shared/contract';
import { EngineClient } from '../../../src-main/engine/client';
import type { HandlerServices } from '../../../src-main/handlers/context';
import { dispatch } from '../../../src-main/handlers/dispatch';
import { createHandlers } from '../../../src-main/handlers';
import type { Handlers } from '../../../src-main/handlers/types';

import { PIPELINE_STEPS, type StepHandler, type StepTable } from '../../../src-main/pipeline/runner';
import { trainingDefaults } from '../../../src-main/core/scales';
import { MemorySettingsStore } from '../../../src-main/core/settings';
import type { Store } from '../../../src-main/store';

/** A step that stays open until the test releases it. */
function gate(): {
  step: StepHandler;
  release: () => void;
  failWith: (e: Error) => void;
  started: Promise<void>;
} {
  let release!: () => void;
  let failWith!: (e: Error) => void;
  let markStarted!: () => void;
  const started = new Promise<void>((r) => (markStarted = r));
  const done = new Promise<void>((resolve, reject) => {
    release = resolve;
    failWith = reject;
  });
  return {
    step: async (ctx) => {
      markStarted();
      ctx.progress(1, 2, 'half way');
      await done;
    },
    release,
    failWith,
    started,
  };
}

let dataDir: string;
let store: Store;
let events: StudioEvents;
let engine: EngineClient;
let steps: StepTable;
let handlers: Handlers;
let seen: { event: EventChannel; payload: unknown }[];
let settings: MemorySettingsStore;

let studio: Studio;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'handlers-'));
  seen = [];
  engine = new EngineClient({ python: '/nonexistent/python-never-started' });
  const noop: StepHandler = async () => undefined;
  steps = Object.fromEntries(PIPELINE_STEPS.map((s) => [s, noop])) as StepTable;
  settings = new MemorySettingsStore({ dataDir });
  studio = await openStudio({ dataDir, settings, engine, steps: () => steps });
  store = studio.store;
  events = studio.events;
  events.onAny((event, payload) => seen.push({ event, payload }));
  const services: HandlerServices = { ...studio, app: { version: '9.9.9', electron: false } };
  handlers = createHandlers(services);
});

afterEach(async () => {
  await engine.close();
  await studio.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function call(channel: string, params: unknown): Promise<ApiResponse<ApiChannel>> {
  return dispatch(handlers, channel, params, () => undefined);
}

async function errorOf(
  channel: string,
  params: unknown,
): Promise<{ code: string; message: string; detail?: unknown }> {
  const reply = await call(channel, params);
  if (reply.ok) throw new Error(`${channel} unexpectedly succeeded`);
  return reply.error;
}

async function newRun(): Promise<RunSummary> {
  return handlers['runs:create']({ personaId: 'beethoven', scale: 'smoke' });
}

describe('app and personas', () => {
  it('reports the app facts it was built with', async () => {
    const info = await handlers['app:info'](undefined);
    expect(info).toMatchObject({ version: '9.9.9', dataDir, electron: false });
    expect(info.engine).toContain('SmolLM2');
  });

  it('lists the built-in personas, Beethoven included', async () => {
    const list = await handlers['personas:list'](undefined);
    const beethoven = list.find((p) => p.id === 'beethoven');
    expect(beethoven).toMatchObject({ builtIn: true, format: 'yaml', version: 1 });
    expect(beethoven!.wordCount).toBeGreaterThan(400);
  });

  it('returns a persona with its system prompt, and not_found for an unknown id', async () => {
    const detail = await handlers['personas:get']({ id: 'beethoven' });
    expect(detail.systemPrompt).toMatch(/Beethoven/);
    expect(detail.keywords.length).toBeGreaterThan(0);
    expect(await errorOf('personas:get', { id: 'mozart' })).toMatchObject({ code: 'not_found' });
  });

  it('validates without the engine: issues with lines, words, no token count', async () => {
    const bad = await handlers['personas:validate']({
      source: 'meta:\n  name: 5\npersona: [',
      format: 'yaml',
    });
    expect(bad.issues.length).toBeGreaterThan(0);
    expect(bad.tokenCount).toBeNull();
    const text = 'You are Captain Nemo. '.repeat(10);
    const good = await handlers['personas:validate']({ source: `# Nemo\n${text}`, format: 'text' });
    expect(good.issues).toEqual([]);
    expect(good.wordCount).toBeGreaterThanOrEqual(40);
    expect(engine.running).toBe(false);
  });

  it('saves a new persona once; the same text keeps its version, new text bumps it', async () => {
    const body = 'You are Captain Nemo, a reclusive engineer of the deep sea. '.repeat(3);
    const first = await handlers['personas:save']({ source: `# Nemo\n${body}`, format: 'text' });
    expect(first).toMatchObject({ id: 'nemo', version: 1, builtIn: false });
    const again = await handlers['personas:save']({ source: `# Nemo\n${body}`, format: 'text' });
    expect(again.version).toBe(1);
    const changed = await handlers['personas:save']({
      source: `# Nemo\n${body} He loves the organ.`,
      format: 'text',
    });
    expect(changed.version).toBe(2);
    const listed = await handlers['personas:list'](undefined);
    expect(listed.filter((p) => p.id === 'nemo')).toHaveLength(1);
  });

  it('refuses an invalid persona with its issues and a 4xx-class code', async () => {
    const error = await errorOf('personas:save', { source: 'meta: [', format: 'yaml' });
    expect(error.code).toBe('invalid_input');
    expect((error.detail as { issues: unknown[] }).issues.length).toBeGreaterThan(0);
  });

  it('checks params crossing the boundary', async () => {
    expect(await errorOf('personas:get', {})).toMatchObject({
      code: 'invalid_params',
      detail: { param: 'id' },
    });
    expect(await errorOf('personas:validate', { source: 'x', format: 'docx' })).toMatchObject({
      code: 'invalid_params',
    });
  });
});

describe('runs', () => {
  it('creates, lists and gets runs (summaries without stored config)', async () => {
    const run = await newRun();
    expect(run).toMatchObject({ personaId: 'beethoven', scale: 'smoke', status: 'pending', step: null });
    expect(Object.keys(run).sort()).toEqual(
      [
        'createdAt',
        'dir',
        'error',
        'id',
        'personaId',
        'personaVersion',
        'scale',
        'status',
        'step',
        'updatedAt',
      ].sort(),
    );
    expect((await handlers['runs:list'](undefined)).map((r) => r.id)).toEqual([run.id]);
    expect(await handlers['runs:get']({ id: run.id })).toEqual(run);
    expect(await errorOf('runs:get', { id: 'nope' })).toMatchObject({ code: 'not_found' });
    expect(await errorOf('runs:create', { personaId: 'mozart', scale: 'smoke' })).toMatchObject({
      code: 'not_found',
    });
    expect(await errorOf('runs:create', { personaId: 'beethoven', scale: 'huge' })).toMatchObject({
      code: 'invalid_params',
    });
  });

  it('resolves runs:step when the step is done, with events meanwhile', async () => {
    const run = await newRun();
    const questions = gate();
    steps.questions = questions.step;
    const pending = handlers['runs:step']({ runId: run.id, step: 'questions' });
    await questions.started;
    expect((await handlers['runs:get']({ id: run.id })).status).toBe('running');
    expect(seen.some((e) => e.event === 'job:progress')).toBe(true);
    questions.release();
    const done = await pending;
    // One step done, others still to run: the runner reports the run as pending again.
    expect(done).toMatchObject({ status: 'pending', step: 'questions', error: null });
    expect(seen.filter((e) => e.event === 'run:status').map((e) => (e.payload as RunSummary).status)).toEqual(
      expect.arrayContaining(['running', 'pending']),
    );
  });

  it('throws a step-order error to the caller instead of starting', async () => {
    const run = await newRun();
    const error = await errorOf('runs:step', { runId: run.id, step: 'train' });
    expect(error.message).toMatch(/needs questions/);
    expect((await handlers['runs:get']({ id: run.id })).status).toBe('pending');
  });

  it('records a failed step in the run and throws it; resume starts in the background and cancel stops it', async () => {
    const run = await newRun();
    steps.questions = async () => {
      throw new Error('teacher unreachable');
    };
    expect(await errorOf('runs:step', { runId: run.id, step: 'questions' })).toMatchObject({
      code: 'internal',
      message: 'teacher unreachable',
    });
    expect(await handlers['runs:get']({ id: run.id })).toMatchObject({
      status: 'failed',
      error: 'teacher unreachable',
    });

    const slow = gate();
    steps.questions = async (ctx) => {
      await Promise.race([
        slow.step(ctx),
        new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
      ]);
    };
    const resumed = await handlers['runs:resume']({ runId: run.id });
    expect(resumed.status).toBe('running');
    await slow.started;
    expect(await handlers['runs:cancel']({ runId: run.id })).toEqual({ cancelled: true });
    // Bounded wait on the condition (a loaded machine may take longer than any fixed sleep).
    for (let i = 0; i < 500 && (await handlers['runs:get']({ id: run.id })).status !== 'cancelled'; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect((await handlers['runs:get']({ id: run.id })).status).toBe('cancelled');
    expect(await handlers['runs:cancel']({ runId: run.id })).toEqual({ cancelled: false });
  });
});

describe('data, training, evaluation', () => {
  it('pages examples with totals, categories and flags', async () => {
    const run = await newRun();
    store.questions.insertMany(
      run.id,
      Array.from({ length: 7 }, (_, i) => ({
        id: i + 1,
        category: i % 2 ? 'music' : 'life',
        text: `question ${i + 1}?`,
        heldout: false,
        template: null,
      })),
    );
    store.examples.insertMany(
      run.id,
      Array.from({ length: 7 }, (_, i) => ({
        questionId: i + 1,
        answer: `answer ${i + 1}`,
        promptTokens: 10,
        completionTokens: 5,
        provider: 'local',
        model: 'tiny',
        latencyMs: 1,
      })),
    );
    const page = await handlers['data:examples']({ runId: run.id, offset: 2, limit: 3 });
    expect(page.total).toBe(7);
    expect(page.rows).toHaveLength(3);
    expect(page.categories.sort()).toEqual(['life', 'music']);
    const music = await handlers['data:examples']({ runId: run.id, category: 'music', offset: 0, limit: 50 });
    expect(music.total).toBe(3);
    expect(music.rows.every((r) => r.category === 'music')).toBe(true);
    expect(await errorOf('data:examples', { runId: run.id, offset: 0, limit: 100000 })).toMatchObject({
      code: 'invalid_params',
    });
    expect(await handlers['data:audit']({ runId: run.id })).toBeNull();
  });

  it('gives the scale defaults and refuses a bad training config before starting', async () => {
    expect(await handlers['training:defaults']({ scale: 'smoke' })).toEqual(trainingDefaults('smoke'));
    settings.set('studentModel', { source: 'local', path: '/models/tiny' });
    const run = await newRun();
    const forRun = await handlers['training:defaults']({ scale: 'smoke', runId: run.id });
    expect(forRun).toEqual({ ...trainingDefaults('smoke'), baseModel: 'local:/models/tiny' });
    const config: TrainingConfig = { ...trainingDefaults('smoke'), learningRate: 5 };
    const error = await errorOf('training:start', { runId: run.id, config });
    expect(error).toMatchObject({ code: 'config', detail: { field: 'config.learningRate' } });
    expect(await handlers['training:status']({ runId: run.id })).toBeNull();
    const typo = await errorOf('training:start', {
      runId: run.id,
      config: { ...trainingDefaults('smoke'), learning_rate: 1e-4 },
    });
    expect(typo).toMatchObject({ code: 'config', detail: { field: 'config.learning_rate' } });
  });

  it("honours the base model chosen on the training form: it becomes the run's student", async () => {
    const run = await newRun();
    store.runs.update(run.id, { completedSteps: ['questions', 'generate', 'audit', 'split'] });
    const config: TrainingConfig = { ...trainingDefaults('smoke'), baseModel: 'gguf:/models/other.gguf' };
    await handlers['training:start']({ runId: run.id, config });
    const stored = store.runs.require(run.id).config;
    expect(stored.studentModel).toEqual({ source: 'gguf', path: '/models/other.gguf' });
    expect(stored.scaleConfig.training.baseModel).toBe('gguf:/models/other.gguf');
    const bad = await errorOf('training:start', {
      runId: run.id,
      config: { ...config, baseModel: 'somewhere' },
    });
    expect(bad).toMatchObject({ code: 'config', detail: { field: 'baseModel' } });
  });

  it('saves nothing when the character options are refused after a valid training config', async () => {
    const run = await newRun();
    store.runs.update(run.id, { completedSteps: ['questions', 'generate', 'audit', 'split'] });
    const before = store.runs.require(run.id).config;
    const config: TrainingConfig = { ...trainingDefaults('smoke'), learningRate: 1e-4, maxSteps: 7 };
    // This run is not a character-recipe run: its character options are refused.
    const error = await errorOf('training:start', { runId: run.id, config, character: { mode: 'paper' } });
    expect(error).toMatchObject({ code: 'config', detail: { field: 'character' } });
    expect(store.runs.require(run.id).config).toEqual(before);
  });

  it('reports training status and metrics from the store', async () => {
    const run = await newRun();
    const config = trainingDefaults('smoke');
    const job = store.jobs.create({ runId: run.id, kind: 'sft', config, totalSteps: 12, status: 'running' });
    store.jobs.update(job.id, { step: 4, startedAt: new Date(Date.now() - 8000).toISOString() });
    store.metrics.append(job.id, [
      { step: 1, kind: 'train', loss: 3.2, tokensPerS: 100, extra: { epoch: 0.1 } },
      { step: 2, kind: 'train', loss: 2.9, tokensPerS: 120 },
      { step: 2, kind: 'eval', loss: 3.0 },
    ]);
    const status = await handlers['training:status']({ runId: run.id });
    expect(status).toMatchObject({ id: job.id, status: 'running', step: 4, totalSteps: 12, tokensPerS: 120 });
    // 8 s for 4 steps, 8 to go: about 16 s.
    expect(status!.etaSeconds).toBeGreaterThanOrEqual(15);
    expect(status!.etaSeconds).toBeLessThanOrEqual(18);
    const points = await handlers['training:metrics']({ runId: run.id, sinceStep: 1 });
    expect(points).toEqual([
      { step: 2, kind: 'eval', loss: 3.0 },
      { step: 2, kind: 'train', loss: 2.9, tokensPerS: 120 },
    ]);
    expect(await handlers['training:cancel']({ runId: run.id })).toEqual({ cancelled: false });
  });

  it('estimates from an assumption first, then from what this data folder measured', async () => {
    const run = await newRun();
    const before = await handlers['runs:estimate']({ runId: run.id, step: 'generate' });
    expect(before.explanation).toMatch(/assumed/);
    expect(before.explanation).not.toMatch(/time unknown/);
    expect(before.seconds).toBeGreaterThan(0);
    expect(before.costUsd).toBe(0); // a local teacher bills nothing
    // A finished generate step: 24 answers of 50 tokens in 12 s is 100 tokens/s.
    store.questions.insertMany(
      run.id,
      Array.from({ length: 24 }, (_, i) => ({
        id: i + 1,
        category: 'c',
        text: `q${i}?`,
        heldout: false,
        template: null,
      })),
    );
    store.examples.insertMany(
      run.id,
      Array.from({ length: 24 }, (_, i) => ({
        questionId: i + 1,
        answer: 'a',
        promptTokens: 300,
        completionTokens: 50,
        provider: 'local',
        model: 'tiny',
        latencyMs: 1,
      })),
    );
    store.runs.update(run.id, { timings: { generate: 12 } });
    const next = await newRun();
    const after = await handlers['runs:estimate']({ runId: next.id, step: 'generate' });
    expect(after.explanation).toMatch(/measured 100 tokens\/s/);
    // 24 questions x 32 new tokens at 100 tokens/s.
    expect(after.seconds).toBe(Math.round((24 * 32) / 100));
    const train = await handlers['runs:estimate']({ runId: next.id, step: 'train' });
    expect(train.tokens).toBe(12 * 4 * 1 * 128);
    // The finished run: nothing left to generate, said in words (not "0 items ... = 0 tokens").
    const finished = await handlers['runs:estimate']({ runId: run.id, step: 'generate' });
    expect(finished).toMatchObject({ seconds: 0, tokens: 0, costUsd: 0 });
    expect(finished.explanation).toBe(
      'all 24 answers are stored: running this step again asks the teacher nothing.',
    );
  });

  it('rounds the throughput it quotes', () => {
    const e = estimateGeneration({
      count: 2,
      promptTokens: 10,
      maxNewTokens: 10,
      tokensPerSecond: 46.656856974690996,
      pricePerMillionInput: 0,
      pricePerMillionOutput: 0,
    });
    expect(e.explanation).toContain('at a measured 47 tokens/s');
  });

  it('has no evaluation or report before the run made them', async () => {
    const run = await newRun();
    expect(await handlers['evaluation:get']({ runId: run.id })).toBeNull();
    expect(await handlers['report:get']({ runId: run.id })).toBeNull();
  });

  it('refuses a chat on an unknown checkpoint', async () => {
    expect(await errorOf('chat:start', { checkpointId: 'cp-missing', withTeacher: false })).toMatchObject({
      code: 'not_found',
    });
  });
});
