import type Database from 'better-sqlite3';
import type { CheckpointRow } from '../../../src-shared/contract';
import { NotFoundError } from '../../core/errors';
import { fromStoredPath, toStoredPath } from '../../core/paths';
import { writeCheckpointRecord } from '../checkpoint-record';
import { newId, nowIso, parseJson } from '../util';

export type CheckpointState = CheckpointRow['state'];

export interface CheckpointRecord extends CheckpointRow {
  jobId: string | null;
  promotedAt: string | null;
}

export interface NewCheckpoint {
  id?: string;
  runId: string;
  jobId: string | null;
  step: number;
  path: string;
  metrics?: Record<string, number>;
  lineage: CheckpointRow['lineage'];
  state?: CheckpointState;
}

export interface CheckpointPatch {
  state?: CheckpointState;
  metrics?: Record<string, number>;
  path?: string;
  promotedAt?: string | null;
}

interface CheckpointDbRow {
  id: string;
  run_id: string;
  job_id: string | null;
  step: number;
  path: string;
  state: CheckpointState;
  metrics: string;
  lineage: string;
  created_at: string;
  promoted_at: string | null;
}

function rowToRecord(r: CheckpointDbRow, dataDir: string | null): CheckpointRecord {
  return {
    id: r.id,
    runId: r.run_id,
    jobId: r.job_id,
    step: r.step,
    path: fromStoredPath(dataDir, r.path),
    state: r.state,
    metrics: parseJson(r.metrics, {}),
    lineage: parseJson(r.lineage, {} as CheckpointRow['lineage']),
    createdAt: r.created_at,
    promotedAt: r.promoted_at,
  };
}

export interface PromotionEvent {
  id: number;
  checkpointId: string;
  action: 'promote' | 'rollback';
  createdAt: string;
}

export interface CheckpointsRepo {
  insert(input: NewCheckpoint): CheckpointRecord;
  get(id: string): CheckpointRecord | null;
  require(id: string): CheckpointRecord;
  /** Newest first; filtered by run and/or state. */
  list(filter?: { runId?: string; state?: CheckpointState }): CheckpointRecord[];
  update(id: string, patch: CheckpointPatch): CheckpointRecord;
  delete(id: string): boolean;
  /** Promotion history, oldest first. */
  promotions(): PromotionEvent[];
  recordPromotion(checkpointId: string, action: 'promote' | 'rollback'): void;
}

/** `dataDir`: checkpoint folders are stored relative to it (see toStoredPath) and read back absolute. */
export function checkpointsRepo(db: Database.Database, dataDir: string | null = null): CheckpointsRepo {
  const toRecord = (r: CheckpointDbRow): CheckpointRecord => rowToRecord(r, dataDir);
  const insertStmt = db.prepare(
    `INSERT INTO checkpoints (id, run_id, job_id, step, path, state, metrics, lineage, created_at, promoted_at)
     VALUES (@id, @run_id, @job_id, @step, @path, @state, @metrics, @lineage, @now, NULL)`,
  );
  const getStmt = db.prepare<[string], CheckpointDbRow>('SELECT * FROM checkpoints WHERE id = ?');
  const updateStmt = db.prepare(
    'UPDATE checkpoints SET state = @state, metrics = @metrics, path = @path, promoted_at = @promoted_at WHERE id = @id',
  );
  const deleteStmt = db.prepare('DELETE FROM checkpoints WHERE id = ?');
  const promoStmt = db.prepare('INSERT INTO promotions (checkpoint_id, action, created_at) VALUES (?, ?, ?)');
  const promosStmt = db.prepare<
    [],
    { id: number; checkpoint_id: string; action: 'promote' | 'rollback'; created_at: string }
  >('SELECT * FROM promotions ORDER BY id');
  const require = (id: string): CheckpointRecord => {
    const r = getStmt.get(id);
    if (!r) throw new NotFoundError('checkpoint', id);
    return toRecord(r);
  };
  /** The checkpoint's registry row beside its files (checkpoint-record.ts), when they exist. */
  const record = (cp: CheckpointRecord): CheckpointRecord => {
    if (dataDir) writeCheckpointRecord(cp);
    return cp;
  };
  return {
    insert: (input) => {
      const id = input.id ?? newId('ckpt');
      insertStmt.run({
        id,
        run_id: input.runId,
        job_id: input.jobId,
        step: input.step,
        path: toStoredPath(dataDir, input.path),
        state: input.state ?? 'candidate',
        metrics: JSON.stringify(input.metrics ?? {}),
        lineage: JSON.stringify(input.lineage),
        now: nowIso(),
      });
      return record(require(id));
    },
    get: (id) => {
      const r = getStmt.get(id);
      return r ? toRecord(r) : null;
    },
    require,
    list: (filter = {}) => {
      const parts: string[] = [];
      const params: Record<string, unknown> = {};
      if (filter.runId) {
        parts.push('run_id = @runId');
        params.runId = filter.runId;
      }
      if (filter.state) {
        parts.push('state = @state');
        params.state = filter.state;
      }
      const whereSql = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
      return db
        .prepare<Record<string, unknown>, CheckpointDbRow>(
          `SELECT * FROM checkpoints ${whereSql} ORDER BY created_at DESC, step DESC, rowid DESC`,
        )
        .all(params)
        .map(toRecord);
    },
    update: (id, patch) => {
      const cur = require(id);
      updateStmt.run({
        id,
        state: patch.state ?? cur.state,
        metrics: JSON.stringify(patch.metrics ?? cur.metrics),
        path: toStoredPath(dataDir, patch.path ?? cur.path),
        promoted_at: patch.promotedAt !== undefined ? patch.promotedAt : cur.promotedAt,
      });
      return record(require(id));
    },
    delete: (id) => deleteStmt.run(id).changes > 0,
    promotions: () =>
      promosStmt
        .all()
        .map((r) => ({ id: r.id, checkpointId: r.checkpoint_id, action: r.action, createdAt: r.created_at })),
    recordPromotion: (checkpointId, action) => {
      promoStmt.run(checkpointId, action, nowIso());
    },
  };
}
