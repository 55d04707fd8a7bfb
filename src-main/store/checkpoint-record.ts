/**
 * checkpoint.json: a checkpoint's registry row (id, state, promotion) kept in its folder, so
 * that a restored backup taken before the checkpoint existed, or a rebuild with no backup, gets
 * back the same id and the promotion instead of a new id and "candidate". Written on every
 * insert and update of the row; the database stays the authority while it is sound.
 */
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckpointRow } from '../../src-shared/contract';

export const CHECKPOINT_RECORD_FILE = 'checkpoint.json';

export interface CheckpointFileRecord {
  id: string;
  runId: string;
  jobId: string | null;
  step: number;
  state: CheckpointRow['state'];
  promotedAt: string | null;
  createdAt: string;
}

/**
 * Best effort: a checkpoint whose folder is gone (deleted, on another disk) or cannot be
 * written keeps its database row; this file is a second copy, not the record itself.
 */
/** What of a registry row the file keeps (repos/checkpoints.ts passes its CheckpointRecord). */
export function writeCheckpointRecord(cp: CheckpointFileRecord & { path: string }): void {
  try {
    if (!statSync(cp.path).isDirectory()) return;
    const body: CheckpointFileRecord = {
      id: cp.id,
      runId: cp.runId,
      jobId: cp.jobId,
      step: cp.step,
      state: cp.state,
      promotedAt: cp.promotedAt,
      createdAt: cp.createdAt,
    };
    const path = join(cp.path, CHECKPOINT_RECORD_FILE);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`);
    renameSync(tmp, path);
  } catch {
    /* the row stands; see above */
  }
}

export function readCheckpointRecord(dir: string): CheckpointFileRecord | null {
  const path = join(dir, CHECKPOINT_RECORD_FILE);
  if (!existsSync(path)) return null;
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as Partial<CheckpointFileRecord>;
    if (typeof r.id !== 'string' || typeof r.step !== 'number') return null;
    return {
      id: r.id,
      runId: String(r.runId ?? ''),
      jobId: typeof r.jobId === 'string' ? r.jobId : null,
      step: r.step,
      state: r.state ?? 'candidate',
      promotedAt: typeof r.promotedAt === 'string' ? r.promotedAt : null,
      createdAt: String(r.createdAt ?? ''),
    };
  } catch {
    return null;
  }
}
