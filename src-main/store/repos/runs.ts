import type Database from 'better-sqlite3';
import {
  PIPELINE_STEPS,
  type PipelineStep,
  type RunStatus,
  type RunSummary,
  type Scale,
} from '../../../src-shared/contract';
import { ConfigError, NotFoundError, errorText } from '../../core/errors';
import { defaultRunConfig, parseRunConfig, type RunConfig } from '../../core/run-config';
import { fromStoredPath, toStoredPath } from '../../core/paths';
import { newId, nowIso } from '../util';

/** A run: its summary, its typed configuration, and its progress (steps done, seconds per step). */
export interface RunRecord extends RunSummary {
  config: RunConfig;
  /** The steps that have completed, in pipeline order. */
  completedSteps: PipelineStep[];
  /** Seconds spent per step, e.g. { generate: 412.5 }. */
  timings: Record<string, number>;
}

export interface CreateRunInput {
  id?: string;
  personaId: string;
  personaVersion: number;
  scale: Scale;
  /** The run's folder; may be set later with update() when it depends on the id. */
  dir?: string;
  /** Default: the scale's defaults on the embedded model (defaultRunConfig). */
  config?: RunConfig;
  status?: RunStatus;
}

export interface RunPatch {
  status?: RunStatus;
  step?: PipelineStep | null;
  error?: string | null;
  config?: RunConfig;
  completedSteps?: PipelineStep[];
  timings?: Record<string, number>;
  dir?: string;
}

interface RunDbRow {
  id: string;
  persona_id: string;
  persona_version: number;
  scale: Scale;
  status: RunStatus;
  step: PipelineStep | null;
  config: string;
  completed_steps: string;
  error: string | null;
  timings: string;
  dir: string;
  created_at: string;
  updated_at: string;
}

function toSummary(r: RunDbRow, dataDir: string | null): RunSummary {
  return {
    id: r.id,
    personaId: r.persona_id,
    personaVersion: r.persona_version,
    scale: r.scale,
    status: r.status,
    step: r.step,
    error: r.error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    dir: fromStoredPath(dataDir, r.dir),
  };
}

function readJson(r: RunDbRow, column: 'config' | 'completed_steps' | 'timings'): unknown {
  try {
    return JSON.parse(r[column]) as unknown;
  } catch (error) {
    throw new ConfigError(
      `run ${r.id}: the stored ${column} is not valid JSON (${errorText(error)})`,
      column,
      { runId: r.id },
    );
  }
}

function toRecord(r: RunDbRow, dataDir: string | null): RunRecord {
  const steps = readJson(r, 'completed_steps');
  const timings = readJson(r, 'timings');
  return {
    ...toSummary(r, dataDir),
    config: parseRunConfig(readJson(r, 'config'), r.id),
    completedSteps: Array.isArray(steps)
      ? PIPELINE_STEPS.filter((s) => (steps as unknown[]).includes(s))
      : [],
    timings: typeof timings === 'object' && timings !== null ? (timings as Record<string, number>) : {},
  };
}

export interface RunsRepo {
  create(input: CreateRunInput): RunRecord;
  get(id: string): RunRecord | null;
  /** Like get, but throws NotFoundError. */
  require(id: string): RunRecord;
  /** Newest first. Throws, naming the run and field, when a stored configuration is malformed. */
  list(): RunRecord[];
  /** Newest first, without reading configurations (listings that must work whatever is stored). */
  summaries(): RunSummary[];
  update(id: string, patch: RunPatch): RunRecord;
  delete(id: string): boolean;
}

/** `dataDir`: run folders are stored relative to it (see toStoredPath) and read back absolute. */
export function runsRepo(db: Database.Database, dataDir: string | null = null): RunsRepo {
  const record = (r: RunDbRow): RunRecord => toRecord(r, dataDir);
  const insertStmt = db.prepare(
    `INSERT INTO runs (id, persona_id, persona_version, scale, status, step, config, completed_steps, error, timings, dir, created_at, updated_at)
     VALUES (@id, @persona_id, @persona_version, @scale, @status, NULL, @config, '[]', NULL, '{}', @dir, @now, @now)`,
  );
  const getStmt = db.prepare<[string], RunDbRow>('SELECT * FROM runs WHERE id = ?');
  const listStmt = db.prepare<[], RunDbRow>('SELECT * FROM runs ORDER BY created_at DESC, id DESC');
  const updateStmt = db.prepare(
    `UPDATE runs SET status = @status, step = @step, error = @error, config = @config,
       completed_steps = @completed_steps, timings = @timings, dir = @dir, updated_at = @now WHERE id = @id`,
  );
  const deleteStmt = db.prepare('DELETE FROM runs WHERE id = ?');

  const requireRow = (id: string): RunDbRow => {
    const r = getStmt.get(id);
    if (!r) throw new NotFoundError('run', id);
    return r;
  };

  return {
    create: (input) => {
      const id = input.id ?? newId('run');
      insertStmt.run({
        id,
        persona_id: input.personaId,
        persona_version: input.personaVersion,
        scale: input.scale,
        status: input.status ?? 'pending',
        config: JSON.stringify(input.config ?? defaultRunConfig(input.scale, input.personaId)),
        dir: toStoredPath(dataDir, input.dir ?? ''),
        now: nowIso(),
      });
      return record(requireRow(id));
    },
    get: (id) => {
      const r = getStmt.get(id);
      return r ? record(r) : null;
    },
    require: (id) => record(requireRow(id)),
    list: () => listStmt.all().map(record),
    summaries: () => listStmt.all().map((r) => toSummary(r, dataDir)),
    update: (id, patch) => {
      const cur = requireRow(id);
      updateStmt.run({
        id,
        status: patch.status ?? cur.status,
        step: patch.step !== undefined ? patch.step : cur.step,
        error: patch.error !== undefined ? patch.error : cur.error,
        config: patch.config ? JSON.stringify(patch.config) : cur.config,
        completed_steps: patch.completedSteps ? JSON.stringify(patch.completedSteps) : cur.completed_steps,
        timings: patch.timings ? JSON.stringify(patch.timings) : cur.timings,
        dir: patch.dir !== undefined ? toStoredPath(dataDir, patch.dir) : cur.dir,
        now: nowIso(),
      });
      return record(requireRow(id));
    },
    delete: (id) => deleteStmt.run(id).changes > 0,
  };
}
