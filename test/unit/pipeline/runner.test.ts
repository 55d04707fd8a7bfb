import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventContract, PipelineStep } from '../../../src-shared/contract';
import { CancelledError } from '../../../src-main/core/errors';
import { StudioEvents } from '../../../src-main/core/events';
import {
  PIPELINE_STEPS,
  PipelineRunner,
  type StepContext,
  type StepTable,
} from '../../../src-main/pipeline/runner';
import { migrate } from '../../../src-main/store/migrations';
import { runsRepo, type RunsRepo } from '../../../src-main/store/repos/runs';

function table(impl: (step: PipelineStep, ctx: StepContext) => Promise<void>): StepTable {
  return Object.fromEntries(PIPELINE_STEPS.map((s) => [s, (ctx: StepContext) => impl(s, ctx)])) as StepTable;
}

describe('PipelineRunner', () => {
  let db: Database.Database;
  let runs: RunsRepo;
  let dataDir: string;
  let events: StudioEvents;

  beforeEach(() => {
    db = new Database(':memory:');
    migrate(db);
    runs = runsRepo(db);
    dataDir = mkdtempSync(join(tmpdir(), 'cs-runner-'));
    events = new StudioEvents();
  });
  afterEach(() => {
    db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs every step in order and ends completed with timings', async () => {
    const seen: PipelineStep[] = [];
    const runner = new PipelineRunner({
      runs,
      dataDir,
      events,
      steps: table(async (s, ctx) => {
        seen.push(s);
        ctx.progress(1, 1);
      }),
    });
    const statuses: EventContract['run:status'][] = [];
    const progress: EventContract['job:progress'][] = [];
    events.on('run:status', (r) => statuses.push(r));
    events.on('job:progress', (p) => progress.push(p));
    const run = runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'smoke' });
    const done = await runner.run(run.id);
    expect(seen).toEqual([...PIPELINE_STEPS]);
    expect(done.status).toBe('completed');
    expect(done.completedSteps).toEqual([...PIPELINE_STEPS]);
    expect(Object.keys(done.timings).sort()).toEqual([...PIPELINE_STEPS].sort());
    expect(statuses.at(-1)?.status).toBe('completed');
    expect(progress.map((p) => p.step)).toEqual([...PIPELINE_STEPS]);
    expect(readFileSync(join(dataDir, 'runs', run.id, 'run.log'), 'utf8')).toContain('step report completed');
  });

  it('marks a throwing step failed (never completed) and resumes from that step', async () => {
    let failTrain = true;
    const seen: PipelineStep[] = [];
    const runner = new PipelineRunner({
      runs,
      dataDir,
      events,
      steps: table(async (s) => {
        seen.push(s);
        if (s === 'train' && failTrain) throw new Error('learning rate exploded\nstack...');
      }),
    });
    const run = runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'smoke' });
    await expect(runner.run(run.id)).rejects.toThrow('learning rate exploded');
    const failed = runs.require(run.id);
    expect(failed.status).toBe('failed');
    expect(failed.step).toBe('train');
    expect(failed.error).toBe('learning rate exploded');
    expect(failed.completedSteps).toEqual(['questions', 'generate', 'audit', 'split']);

    failTrain = false;
    seen.length = 0;
    const resumed = await runner.resume(run.id);
    expect(seen).toEqual(['train', 'evaluate', 'savings', 'report']);
    expect(resumed.status).toBe('completed');
    expect(resumed.error).toBeNull();
  });

  it('cancels through the signal and records cancelled', async () => {
    const controller = new AbortController();
    const runner = new PipelineRunner({
      runs,
      dataDir,
      events,
      steps: table(async (s, ctx) => {
        if (s === 'generate') {
          controller.abort(new CancelledError());
          if (ctx.signal.aborted) throw new CancelledError();
        }
      }),
    });
    const run = runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'smoke' });
    await expect(runner.run(run.id, { signal: controller.signal })).rejects.toBeInstanceOf(CancelledError);
    const r = runs.require(run.id);
    expect(r.status).toBe('cancelled');
    expect(r.step).toBe('generate');
    expect(r.completedSteps).toEqual(['questions']);
  });

  it('refuses a single step whose predecessors have not run', async () => {
    const runner = new PipelineRunner({ runs, dataDir, events, steps: table(async () => undefined) });
    const run = runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'smoke' });
    await expect(runner.runStep(run.id, 'train')).rejects.toThrow(/needs questions, generate, audit, split/);
    const after = await runner.runStep(run.id, 'questions');
    expect(after.status).toBe('pending');
    expect(after.completedSteps).toEqual(['questions']);
  });

  it('a cancelled retrain leaves a finished run as it was; a completed one invalidates the later steps', async () => {
    let cancelTrain = false;
    const controller = new AbortController();
    const runner = new PipelineRunner({
      runs,
      dataDir,
      events,
      steps: table(async (s) => {
        if (s === 'train' && cancelTrain) {
          controller.abort(new CancelledError());
          throw new CancelledError();
        }
      }),
    });
    const run = runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'smoke' });
    await runner.run(run.id);
    cancelTrain = true;
    await expect(runner.runStep(run.id, 'train', { signal: controller.signal })).rejects.toBeInstanceOf(
      CancelledError,
    );
    // Its evaluation and report stand: the run's state is its last complete result, not "cancelled (train)".
    const kept = runs.require(run.id);
    expect(kept.status).toBe('completed');
    expect(kept.step).toBe('report');
    expect(kept.completedSteps).toEqual([...PIPELINE_STEPS]);
    expect(readFileSync(join(dataDir, 'runs', run.id, 'run.log'), 'utf8')).toContain(
      'keeps its last complete result',
    );
    cancelTrain = false;
    const retrained = await runner.runStep(run.id, 'train');
    expect(retrained.status).toBe('pending');
    expect(retrained.completedSteps).toEqual(['questions', 'generate', 'audit', 'split', 'train']);
  });
});
