/**
 * The pipeline runner: steps in order, honest run status, resume from the failed step, cancel.
 *
 * The runner knows nothing about what a step does; the step table (step-table.ts) does the work.
 * A run's progress lives in the store, apart from its configuration: `status`, `step` (the
 * step running, or the last one tried), `error` (the failure message), `completedSteps` and
 * `timings` (seconds per step). A run is `completed` only when every step has completed; any throw makes it
 * `failed` with the message, and `resume` starts again at the first step not completed.
 */
import {
  PIPELINE_STEPS,
  type PipelineStep,
  type RunStatus,
  type RunSummary,
} from '../../src-shared/contract';
import type { RunPatch, RunRecord } from '../store/repos/runs';
import type { RunLease, RunOwnersRepo } from '../store/repos/run-owners';
import { CancelledError, ConflictError, errorMessage, isCancellation, StepOrderError } from '../core/errors';
import type { StudioEvents } from '../core/events';
import { appendRunLog, ensureRunDir, type RunPaths } from '../core/paths';
import type { ScaleConfig } from '../core/scales';

export { PIPELINE_STEPS };

/** The contract's RunSummary: a record without its stored config and timings. */
export function toRunSummary(run: RunRecord): RunSummary {
  return {
    id: run.id,
    personaId: run.personaId,
    personaVersion: run.personaVersion,
    scale: run.scale,
    status: run.status,
    step: run.step,
    error: run.error,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    dir: run.dir,
  };
}

/** What the runner needs of the runs table. */
export interface RunStateStore {
  get(id: string): RunRecord | null;
  require(id: string): RunRecord;
  update(id: string, patch: RunPatch): RunRecord;
}

export interface StepContext {
  run: RunRecord;
  paths: RunPaths;
  scale: ScaleConfig;
  signal: AbortSignal;
  /** Emits 'job:progress' for this run and step. */
  progress(done: number, total: number, message?: string): void;
  /** One line to the run's log file (never secrets). */
  log(message: string): void;
}

export type StepHandler = (ctx: StepContext) => Promise<void>;
export type StepTable = Record<PipelineStep, StepHandler>;

export interface RunnerDeps {
  runs: RunStateStore;
  dataDir: string;
  events: StudioEvents;
  steps: StepTable;
  /** Called after every status change (runs.csv, for example). Errors are logged, not thrown. */
  onRunChanged?: (run: RunRecord) => void;
  /** One owner per run across processes (the store's run_owners): a second one is refused. */
  owners?: Pick<RunOwnersRepo, 'acquire'>;
  /** Recorded with the owner: who runs it, and the engine's pid (it may outlive a killed owner). */
  owner?: { command: string; enginePid: () => number | null };
}

export interface RunOptions {
  signal?: AbortSignal;
}

/** The steps still to do, in order: every step after the last completed one in sequence. */
export function remainingSteps(run: RunRecord): PipelineStep[] {
  const done = new Set(run.completedSteps);
  return PIPELINE_STEPS.filter((s) => !done.has(s));
}

export class PipelineRunner {
  private readonly active = new Map<string, AbortController>();

  constructor(private readonly deps: RunnerDeps) {}

  isActive(runId: string): boolean {
    return this.active.has(runId);
  }

  /** Abort the run's current step; the run ends `cancelled` and can be resumed. */
  cancel(runId: string): boolean {
    const controller = this.active.get(runId);
    if (!controller) return false;
    controller.abort(new CancelledError(`run ${runId} cancelled`));
    return true;
  }

  /** Every step not yet completed, in order. */
  async run(runId: string, opts: RunOptions = {}): Promise<RunRecord> {
    const run = this.deps.runs.require(runId);
    return this.runSteps(runId, remainingSteps(run), opts);
  }

  /** Continue a failed, cancelled or interrupted (its process died) run from its first incomplete step. */
  async resume(runId: string, opts: RunOptions = {}): Promise<RunRecord> {
    const run = this.deps.runs.require(runId);
    if (this.active.has(runId)) throw new ConflictError(`run ${runId} is already running`, { runId });
    if (run.status === 'completed' && remainingSteps(run).length === 0) return run;
    return this.runSteps(runId, remainingSteps(run), opts);
  }

  /** One step (the app's per-step buttons); earlier steps must have completed. */
  async runStep(runId: string, step: PipelineStep, opts: RunOptions = {}): Promise<RunRecord> {
    const run = this.deps.runs.require(runId);
    const done = new Set(run.completedSteps);
    const missing = PIPELINE_STEPS.slice(0, PIPELINE_STEPS.indexOf(step)).filter((s) => !done.has(s));
    if (missing.length > 0) {
      throw new StepOrderError(step, missing.join(', '), { runId });
    }
    const keep = PIPELINE_STEPS.slice(0, PIPELINE_STEPS.indexOf(step)).filter((s) => done.has(s));
    if (!done.has(step)) {
      // A step not done yet: the steps after it cannot be done either; drop any stale marks now.
      return this.runSteps(runId, [step], opts, {
        beforeFirst: () => this.update(runId, { completedSteps: keep }),
      });
    }
    // Re-running a finished step (a retrain): the run keeps its last complete result until the
    // new one exists. Only a completed re-run invalidates the steps after it; a cancelled or
    // failed one puts the run back as it was (the training job records its own cancellation).
    return this.runSteps(runId, [step], opts, {
      afterStep: () => this.deps.runs.update(runId, { completedSteps: [...keep, step] }),
      onAbandon: () =>
        this.update(runId, {
          status: run.status,
          step: run.step,
          completedSteps: run.completedSteps,
          error: run.error,
        }),
    });
  }

  private update(runId: string, patch: RunPatch): RunRecord {
    const run = this.deps.runs.update(runId, patch);
    if (patch.status !== undefined || patch.step !== undefined) {
      this.deps.events.emit('run:status', toRunSummary(run));
      try {
        this.deps.onRunChanged?.(run);
      } catch (error) {
        appendRunLog(ensureRunDir(this.deps.dataDir, runId), `onRunChanged failed: ${errorMessage(error)}`);
      }
    }
    return run;
  }

  private async runSteps(
    runId: string,
    steps: readonly PipelineStep[],
    opts: RunOptions,
    hooks: {
      beforeFirst?: () => void;
      /** After each step's completion is recorded. */
      afterStep?: () => void;
      /** Instead of marking the run cancelled or failed (the error still propagates). */
      onAbandon?: (cancelled: boolean, message: string) => void;
    } = {},
  ): Promise<RunRecord> {
    if (this.active.has(runId)) throw new ConflictError(`run ${runId} is already running`, { runId });
    const paths = ensureRunDir(this.deps.dataDir, runId);
    // Claimed in this process before the first await, so a second call for this run is refused.
    const controller = new AbortController();
    this.active.set(runId, controller);
    let lease: RunLease | undefined;
    try {
      // Refused here, before anything is written, while another live process runs this run.
      lease = await this.deps.owners?.acquire(runId, this.deps.owner);
    } catch (error) {
      this.active.delete(runId);
      throw error;
    }
    const onOuterAbort = (): void => controller.abort(opts.signal?.reason ?? new CancelledError());
    if (opts.signal?.aborted) onOuterAbort();
    opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
    let current: PipelineStep | null = null;
    try {
      hooks.beforeFirst?.();
      let run = this.update(runId, { status: 'running', error: null });
      const scale = run.config.scaleConfig;
      for (const step of steps) {
        current = step;
        if (controller.signal.aborted) throw controller.signal.reason ?? new CancelledError();
        run = this.update(runId, { status: 'running', step });
        appendRunLog(paths, `step ${step} started`);
        const started = performance.now();
        const ctx: StepContext = {
          run,
          paths,
          scale,
          signal: controller.signal,
          progress: (done, total, message) =>
            this.deps.events.emit('job:progress', {
              runId,
              step,
              done,
              total,
              fraction: total > 0 ? Math.min(1, done / total) : 1,
              ...(message !== undefined ? { message } : {}),
            }),
          log: (message) => appendRunLog(paths, `[${step}] ${message}`),
        };
        await this.deps.steps[step](ctx);
        const seconds = (performance.now() - started) / 1000;
        const fresh = this.deps.runs.require(runId);
        const done = [...fresh.completedSteps.filter((s) => s !== step), step];
        run = this.deps.runs.update(runId, {
          completedSteps: PIPELINE_STEPS.filter((s) => done.includes(s)),
          timings: { ...fresh.timings, [step]: Math.round(seconds * 10) / 10 },
        });
        hooks.afterStep?.();
        appendRunLog(paths, `step ${step} completed in ${seconds.toFixed(1)} s`);
      }
      const finished = this.deps.runs.require(runId);
      const status: RunStatus = remainingSteps(finished).length === 0 ? 'completed' : 'pending';
      return this.update(runId, { status, error: null });
    } catch (error) {
      const cancelled = controller.signal.aborted || isCancellation(error);
      const message = cancelled ? `cancelled during ${current ?? 'start'}` : errorMessage(error);
      appendRunLog(paths, `step ${current ?? '?'} ${cancelled ? 'cancelled' : 'failed'}: ${message}`);
      if (hooks.onAbandon) {
        hooks.onAbandon(cancelled, message);
        appendRunLog(
          paths,
          `the re-run of ${current ?? '?'} was abandoned: the run keeps its last complete result`,
        );
      } else
        this.update(runId, { status: cancelled ? 'cancelled' : 'failed', step: current, error: message });
      throw error;
    } finally {
      opts.signal?.removeEventListener('abort', onOuterAbort);
      this.active.delete(runId);
      lease?.release();
    }
  }
}
