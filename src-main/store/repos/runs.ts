import type Database from 'better-sqlite3';
import type { PipelineStep, RunStatus, RunSummary, Scale } from '../../../src-shared/contract';
import { NotFoundError } from '../../core/errors';
import { newId, nowIso, parseJson } from '../util';

export interface RunRecord extends RunSummary {
  config: Record<string, unknown>;
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
  config?: Record<string, unknown>;
  status?: RunStatus;
}

export interface RunPatch {
  status?: RunStatus;
  step?: PipelineStep | null;
  error?: string | null;
  config?: Record<string, unknown>;
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
  error: string | null;
  timings: string;
  dir: string;
  created_at: string;
  updated_at: string;
}

function toRecord(r: RunDbRow): RunRecord {
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
    dir: r.dir,
    config: parseJson(r.config, {}),
    timings: parseJson(r.timings, {}),
  };
}

export interface RunsRepo {
  create(input: CreateRunInput): RunRecord;
  get(id: string): RunRecord | null;
  /** Like get, but throws NotFoundError. */
  require(id: string): RunRecord;
  /** Newest first. */
  list(): RunRecord[];
  update(id: string, patch: RunPatch): RunRecord;
  delete(id: string): boolean;
}

export function runsRepo(db: Database.Database): RunsRepo {
  const insertStmt = db.prepare(
    `INSERT INTO runs (id, persona_id, persona_version, scale, status, step, config, error, timings, dir, created_at, updated_at)
     VALUES (@id, @persona_id, @persona_version, @scale, @status, NULL, @config, NULL, '{}', @dir, @now, @now)`,
  );
  const getStmt = db.prepare<[string], RunDbRow>('SELECT * FROM runs WHERE id = ?');
  const listStmt = db.prepare<[], RunDbRow>('SELECT * FROM runs ORDER BY created_at DESC, id DESC');
  const updateStmt = db.prepare(
    `UPDATE runs SET status = @status, step = @step, error = @error, config = @config, timings = @timings,
       dir = @dir, updated_at = @now WHERE id = @id`,
  );
  const deleteStmt = db.prepare('DELETE FROM runs WHERE id = ?');

  const requireRun = (id: string): RunRecord => {
    const r = getStmt.get(id);
    if (!r) throw new NotFoundError('run', id);
    return toRecord(r);
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
        config: JSON.stringify(input.config ?? {}),
        dir: input.dir ?? '',
        now: nowIso(),
      });
      return requireRun(id);
    },
    get: (id) => {
      const r = getStmt.get(id);
      return r ? toRecord(r) : null;
    },
    require: requireRun,
    list: () => listStmt.all().map(toRecord),
    update: (id, patch) => {
      const cur = requireRun(id);
      updateStmt.run({
        id,
        status: patch.status ?? cur.status,
        step: patch.step !== undefined ? patch.step : cur.step,
        error: patch.error !== undefined ? patch.error : cur.error,
        config: JSON.stringify(patch.config ?? cur.config),
        timings: JSON.stringify(patch.timings ?? cur.timings),
        dir: patch.dir ?? cur.dir,
        now: nowIso(),
      });
      return requireRun(id);
    },
    delete: (id) => deleteStmt.run(id).changes > 0,
  };
}
