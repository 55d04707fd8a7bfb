import type Database from 'better-sqlite3';
import type { MetricPoint, RunStatus, TrainingConfig } from '../../../src-shared/contract';
import { NotFoundError } from '../../core/errors';
import { newId, nowIso, parseJson } from '../util';

/** The loss a job trains with: the distillation objectives, or DPO (the character recipe). */
export type TrainingKind = 'sft' | 'dpo' | 'kd' | 'on-policy';

export interface TrainingJobRecord {
  id: string;
  runId: string;
  kind: TrainingKind;
  status: RunStatus;
  config: TrainingConfig;
  step: number;
  totalSteps: number;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface CreateJobInput {
  id?: string;
  runId: string;
  kind: TrainingKind;
  config: TrainingConfig;
  totalSteps: number;
  status?: RunStatus;
}

export interface JobPatch {
  status?: RunStatus;
  step?: number;
  totalSteps?: number;
  error?: string | null;
  startedAt?: string | null;
  finishedAt?: string | null;
}

interface JobDbRow {
  id: string;
  run_id: string;
  kind: TrainingKind;
  status: RunStatus;
  config: string;
  step: number;
  total_steps: number;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

function toJob(r: JobDbRow): TrainingJobRecord {
  return {
    id: r.id,
    runId: r.run_id,
    kind: r.kind,
    status: r.status,
    config: parseJson(r.config, {} as TrainingConfig),
    step: r.step,
    totalSteps: r.total_steps,
    error: r.error,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

export interface JobsRepo {
  create(input: CreateJobInput): TrainingJobRecord;
  get(id: string): TrainingJobRecord | null;
  update(id: string, patch: JobPatch): TrainingJobRecord;
  /** The newest job of a run (of a kind, when given). */
  latestForRun(runId: string, kind?: TrainingKind): TrainingJobRecord | null;
  listByRun(runId: string): TrainingJobRecord[];
}

export function jobsRepo(db: Database.Database): JobsRepo {
  const insertStmt = db.prepare(
    `INSERT INTO training_jobs (id, run_id, kind, status, config, step, total_steps, created_at)
     VALUES (@id, @run_id, @kind, @status, @config, 0, @total_steps, @now)`,
  );
  const getStmt = db.prepare<[string], JobDbRow>('SELECT * FROM training_jobs WHERE id = ?');
  const updateStmt = db.prepare(
    `UPDATE training_jobs SET status = @status, step = @step, total_steps = @total_steps, error = @error,
       started_at = @started_at, finished_at = @finished_at WHERE id = @id`,
  );
  const latestAny = db.prepare<[string], JobDbRow>(
    'SELECT * FROM training_jobs WHERE run_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1',
  );
  const latestKind = db.prepare<[string, string], JobDbRow>(
    'SELECT * FROM training_jobs WHERE run_id = ? AND kind = ? ORDER BY created_at DESC, rowid DESC LIMIT 1',
  );
  const listStmt = db.prepare<[string], JobDbRow>(
    'SELECT * FROM training_jobs WHERE run_id = ? ORDER BY created_at, rowid',
  );
  const require = (id: string): TrainingJobRecord => {
    const r = getStmt.get(id);
    if (!r) throw new NotFoundError('training job', id);
    return toJob(r);
  };
  return {
    create: (input) => {
      const id = input.id ?? newId('job');
      insertStmt.run({
        id,
        run_id: input.runId,
        kind: input.kind,
        status: input.status ?? 'pending',
        config: JSON.stringify(input.config),
        total_steps: input.totalSteps,
        now: nowIso(),
      });
      return require(id);
    },
    get: (id) => {
      const r = getStmt.get(id);
      return r ? toJob(r) : null;
    },
    update: (id, patch) => {
      const cur = require(id);
      updateStmt.run({
        id,
        status: patch.status ?? cur.status,
        step: patch.step ?? cur.step,
        total_steps: patch.totalSteps ?? cur.totalSteps,
        error: patch.error !== undefined ? patch.error : cur.error,
        started_at: patch.startedAt !== undefined ? patch.startedAt : cur.startedAt,
        finished_at: patch.finishedAt !== undefined ? patch.finishedAt : cur.finishedAt,
      });
      return require(id);
    },
    latestForRun: (runId, kind) => {
      const r = kind ? latestKind.get(runId, kind) : latestAny.get(runId);
      return r ? toJob(r) : null;
    },
    listByRun: (runId) => listStmt.all(runId).map(toJob),
  };
}

/** A metric as reported by the engine; `extra` holds anything else (epoch, DPO reward accuracy, ...). */
export interface MetricInput extends MetricPoint {
  extra?: Record<string, number>;
}

interface MetricDbRow {
  step: number;
  kind: 'train' | 'eval';
  loss: number;
  lr: number | null;
  grad_norm: number | null;
  tokens_per_s: number | null;
  extra: string;
}

function toPoint(r: MetricDbRow): MetricPoint & { extra: Record<string, number> } {
  const p: MetricPoint & { extra: Record<string, number> } = {
    step: r.step,
    kind: r.kind,
    loss: r.loss,
    extra: parseJson(r.extra, {}),
  };
  if (r.lr !== null) p.lr = r.lr;
  if (r.grad_norm !== null) p.gradNorm = r.grad_norm;
  if (r.tokens_per_s !== null) p.tokensPerS = r.tokens_per_s;
  if (typeof p.extra.nll === 'number') p.nll = p.extra.nll;
  return p;
}

export interface MetricsRepo {
  /** Appends in one transaction; a step reported again for the same job and kind replaces the old value. */
  append(jobId: string, points: readonly MetricInput[]): void;
  /** Points with step > sinceStep, by step. */
  since(jobId: string, sinceStep: number): (MetricPoint & { extra: Record<string, number> })[];
  /** Same, for the newest training job of a run. */
  sinceForRun(runId: string, sinceStep: number): (MetricPoint & { extra: Record<string, number> })[];
  /** The last point of a kind, or null. */
  last(jobId: string, kind: 'train' | 'eval'): (MetricPoint & { extra: Record<string, number> }) | null;
}

export function metricsRepo(db: Database.Database): MetricsRepo {
  const insertStmt = db.prepare(
    `INSERT OR REPLACE INTO step_metrics (job_id, step, kind, loss, lr, grad_norm, tokens_per_s, extra, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const sinceStmt = db.prepare<[string, number], MetricDbRow>(
    'SELECT * FROM step_metrics WHERE job_id = ? AND step > ? ORDER BY step, kind',
  );
  const sinceRunStmt = db.prepare<[string, number], MetricDbRow>(
    `SELECT m.* FROM step_metrics m WHERE m.job_id = (
       SELECT id FROM training_jobs WHERE run_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1)
     AND m.step > ? ORDER BY m.step, m.kind`,
  );
  const lastStmt = db.prepare<[string, string], MetricDbRow>(
    'SELECT * FROM step_metrics WHERE job_id = ? AND kind = ? ORDER BY step DESC LIMIT 1',
  );
  const append = db.transaction((jobId: string, points: readonly MetricInput[]) => {
    const now = nowIso();
    for (const p of points) {
      insertStmt.run(
        jobId,
        p.step,
        p.kind,
        p.loss,
        p.lr ?? null,
        p.gradNorm ?? null,
        p.tokensPerS ?? null,
        JSON.stringify(p.extra ?? {}),
        now,
      );
    }
  });
  return {
    append: (jobId, points) => append(jobId, points),
    since: (jobId, sinceStep) => sinceStmt.all(jobId, sinceStep).map(toPoint),
    sinceForRun: (runId, sinceStep) => sinceRunStmt.all(runId, sinceStep).map(toPoint),
    last: (jobId, kind) => {
      const r = lastStmt.get(jobId, kind);
      return r ? toPoint(r) : null;
    },
  };
}
