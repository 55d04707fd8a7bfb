/**
 * One engine training job, whatever its objective: a job row (resumed from its newest complete
 * checkpoint when an earlier attempt did not finish), every metric stored and emitted, every
 * checkpoint registered with its lineage (persona version, data hash from the engine's
 * checkpoint event, config). Used by the train step and by the recipes.
 *
 * Each job writes to its own folder, <run>/jobs/<job id>/ (metrics.jsonl, checkpoints/step-N):
 * training a run again (another objective, other settings) never overwrites the checkpoints
 * of an earlier job, which the registry may have promoted.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckpointRow, MetricPoint, TrainingConfig } from '../../src-shared/contract';
import type { EngineEvent, TrainResult, TrainSftParams } from '../../src-shared/engine-protocol';
import { LOSS_NAMES, lossKindOf } from '../../src-shared/losses';
import { CancelledError, errorMessage } from '../core/errors';
import type { CheckpointRecord, TrainingKind } from '../store';
import { jobDir } from '../core/paths';
import type { StepContext } from './runner';
import type { PipelineServices } from './services';
import { isTinkerPath } from './tinker';

/** The engine's parameters for a TrainingConfig (camelCase -> the wire's snake_case). */
export function trainSftParams(
  config: TrainingConfig,
  io: {
    model: TrainSftParams['model'];
    trainPath: string;
    valPath: string | null;
    outputDir: string;
    resumeFrom?: string;
    /** Mirror the metrics to TensorBoard (settings.tensorboard). */
    tensorboard?: boolean;
  },
): TrainSftParams {
  return {
    model: io.model,
    train_path: io.trainPath,
    ...(io.valPath ? { val_path: io.valPath } : {}),
    output_dir: io.outputDir,
    lora: {
      r: config.loraR,
      alpha: config.loraAlpha,
      dropout: config.loraDropout,
      target_modules: config.targetModules,
    },
    learning_rate: config.learningRate,
    warmup_steps: config.warmupSteps,
    schedule: config.schedule,
    batch_size: config.batchSize,
    grad_accum: config.gradAccum,
    max_steps: config.maxSteps,
    max_length: config.maxLength,
    eval_every: config.evalEvery,
    save_every: config.saveEvery,
    seed: config.seed,
    ...(io.resumeFrom ? { resume_from: io.resumeFrom } : {}),
    ...(io.tensorboard ? { tensorboard: true } : {}),
  };
}

/** What runEngineTraining hands the call it starts. */
export interface TrainingStart {
  outputDir: string;
  resumeFrom: string | undefined;
  onEvent: (e: EngineEvent) => void;
}

/** What one engine training call needs: its kind, config, and how to start it (resuming or not). */
export interface EngineTrainingOptions {
  kind: TrainingKind;
  config: TrainingConfig;
  /** Starts the engine call: its output_dir is the job's folder; resumeFrom its checkpoint to resume. */
  start: (job: TrainingStart) => Promise<TrainResult>;
}

/**
 * One engine training job: a job row (resumed from its newest complete checkpoint when an
 * earlier attempt did not finish), every metric stored and emitted, every checkpoint
 * registered with its lineage. Returns the final checkpoint.
 */
export async function runEngineTraining(
  studio: PipelineServices,
  ctx: StepContext,
  opts: EngineTrainingOptions,
): Promise<CheckpointRecord> {
  const { store, events } = studio;
  const run = ctx.run;
  const config = opts.config;
  // Resume: the newest complete checkpoint of an unfinished earlier job of this run.
  const previous = store.jobs.latestForRun(run.id, opts.kind);
  const resumable =
    previous && previous.status !== 'completed'
      ? store.checkpoints
          .list({ runId: run.id })
          // A Tinker checkpoint's state is on the service (tinker_train reads it back).
          .filter(
            (c) =>
              c.jobId === previous.id &&
              (isTinkerPath(c.path) || existsSync(join(c.path, 'trainer_state.json'))),
          )
          .sort((a, b) => b.step - a.step)[0]
      : undefined;
  const resumeFrom = resumable?.path;
  const job =
    previous && resumeFrom
      ? store.jobs.update(previous.id, { status: 'running', error: null })
      : store.jobs.create({
          runId: run.id,
          kind: opts.kind,
          config,
          totalSteps: config.maxSteps,
          status: 'running',
        });
  store.jobs.update(job.id, { startedAt: new Date().toISOString() });
  if (resumeFrom) ctx.log(`resuming training from ${resumeFrom}`);

  const registered = new Map<string, CheckpointRecord>();
  for (const c of store.checkpoints.list({ runId: run.id })) registered.set(c.path, c);
  let dataHash = '';
  const lineage = (): CheckpointRow['lineage'] => ({
    personaId: run.personaId,
    personaVersion: run.personaVersion,
    dataHash,
    config,
  });
  const register = (
    step: number,
    path: string,
    metrics: Record<string, number> = {},
    pulledFrom?: string,
  ): CheckpointRecord => {
    const known = registered.get(path);
    if (known) {
      if (Object.keys(metrics).length > 0) return store.checkpoints.update(known.id, { metrics });
      return known;
    }
    const cp = store.checkpoints.insert({
      runId: run.id,
      jobId: job.id,
      step,
      path,
      metrics,
      lineage: { ...lineage(), ...(pulledFrom ? { pulledFrom } : {}) },
    });
    registered.set(path, cp);
    events.emit('training:checkpoint', { runId: run.id, checkpoint: cp });
    return cp;
  };

  const onEvent = (e: EngineEvent): void => {
    if (e.event === 'metric') {
      const point: MetricPoint = {
        step: e.step,
        kind: e.kind,
        loss: e.loss,
        ...(e.lr !== undefined ? { lr: e.lr } : {}),
        ...(e.grad_norm !== undefined ? { gradNorm: e.grad_norm } : {}),
        ...(e.tokens_per_s !== undefined ? { tokensPerS: e.tokens_per_s } : {}),
        ...(e.nll !== undefined && Number.isFinite(e.nll) ? { nll: e.nll } : {}),
      };
      const extra: Record<string, number> = {
        ...(e.epoch !== undefined ? { epoch: e.epoch } : {}),
        ...(point.nll !== undefined ? { nll: point.nll } : {}),
      };
      store.metrics.append(job.id, [{ ...point, ...(Object.keys(extra).length ? { extra } : {}) }]);
      if (e.kind === 'train') store.jobs.update(job.id, { step: e.step });
      events.emit('training:metric', { runId: run.id, point });
    } else if (e.event === 'progress') {
      ctx.progress(e.done, e.total, e.message ?? `step ${e.done}/${e.total}`);
    } else if (e.event === 'checkpoint') {
      // Lineage needs the data hash: the checkpoint event carries it.
      dataHash = e.data_hash;
      register(e.step, e.path);
    } else if (e.event === 'log' && (e.level === 'warning' || e.level === 'error')) {
      ctx.log(`engine ${e.level}: ${e.message}`);
    }
  };

  try {
    const result = await opts.start({ outputDir: jobDir(ctx.paths, job.id), resumeFrom, onEvent });
    dataHash = result.data_hash;
    const lastTrain = store.metrics.last(job.id, 'train');
    const lastEval = store.metrics.last(job.id, 'eval');
    // Each loss under its own name (src-shared/losses.ts): trainKdLoss, valKdLoss, valNll.
    const trainKind = LOSS_NAMES[lossKindOf(opts.kind, 'train')];
    const evalKind = LOSS_NAMES[lossKindOf(opts.kind, 'eval')];
    const final = register(
      result.steps,
      result.final_checkpoint,
      {
        [`train${trainKind.key}`]: result.train_loss,
        ...(result.val_loss !== null ? { [`val${evalKind.key}`]: result.val_loss } : {}),
        ...(lastEval?.nll !== undefined && evalKind.key !== 'Nll' ? { valNll: lastEval.nll } : {}),
        ...(lastTrain?.tokensPerS !== undefined ? { tokensPerS: lastTrain.tokensPerS } : {}),
      },
      // Tinker: the final checkpoint is the adapter pulled into the job's folder.
      result.remote_checkpoint,
    );
    if (result.cancelled) {
      store.jobs.update(job.id, { status: 'cancelled', step: result.steps });
      throw new CancelledError(
        `training cancelled at step ${result.steps}; resume continues from ${final.path}`,
      );
    }
    store.jobs.update(job.id, {
      status: 'completed',
      step: result.steps,
      finishedAt: new Date().toISOString(),
    });
    ctx.log(
      `${opts.kind} trained ${result.steps} steps: train ${trainKind.short} ${result.train_loss.toFixed(4)}, validation ${evalKind.short} ${result.val_loss?.toFixed(4) ?? 'n/a'}${lastEval?.nll !== undefined && evalKind.key !== 'Nll' ? `, validation NLL ${lastEval.nll.toFixed(4)}` : ''}`,
    );
    return final;
  } catch (error) {
    if (!(error instanceof CancelledError)) {
      store.jobs.update(job.id, {
        status: ctx.signal.aborted ? 'cancelled' : 'failed',
        error: errorMessage(error),
      });
    }
    throw error;
  }
}

/**
 * The checkpoint a run's evaluation uses: the newest of its latest training job (for the
 * character recipe, the introspection SFT that follows DPO), or a merged adapter made from that
 * job's checkpoints (the character recipe's paper mode with merge).
 */
export function finalCheckpoint(studio: PipelineServices, runId: string): CheckpointRecord | null {
  const job = studio.store.jobs.latestForRun(runId);
  const merged = studio.store.checkpoints
    .list({ runId })
    .filter(
      (c) =>
        c.jobId === null &&
        c.lineage.parents?.some(
          (p) => !job || studio.store.checkpoints.get(p.checkpointId)?.jobId === job.id,
        ),
    )
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  if (merged) return merged;
  // Local folders only: a Tinker job's last checkpoint is on the service, its pulled copy here.
  const cps = studio.store.checkpoints
    .list({ runId })
    .filter((c) => (!job || c.jobId === job.id) && !isTinkerPath(c.path))
    .sort((a, b) => b.step - a.step);
  return cps[0] ?? null;
}
