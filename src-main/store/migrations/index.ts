import type Database from 'better-sqlite3';
import { StoreError } from '../errors';
import { up as initial } from './001-initial';
import { up as runProgress } from './002-run-progress';
import { up as objectives } from './003-training-objectives';
import { up as teacherThinking } from './004-teacher-thinking';
import { up as relativePaths } from './005-relative-paths';
import { up as runOwners } from './006-run-owners';
import { up as pairwiseReview } from './007-pairwise-review';
import { errorText } from '../../core/errors';

export interface Migration {
  /** Becomes PRAGMA user_version once applied. Strictly increasing, starting at 1. */
  version: number;
  name: string;
  up: (db: Database.Database) => void;
  /**
   * Rebuilds a table (SQLite's way of changing a constraint): foreign keys are switched off
   * around the transaction, so dropping the old table cascades nothing, and checked after.
   */
  rebuildsTables?: boolean;
}

/** Every migration, in order. Append only; never edit one that has shipped. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', up: initial },
  { version: 2, name: 'run progress apart from run config', up: runProgress },
  { version: 3, name: 'training objectives (kd, on-policy)', up: objectives, rebuildsTables: true },
  { version: 4, name: 'teacher answers marked when their reasoning was cut out', up: teacherThinking },
  { version: 5, name: 'run and checkpoint folders relative to the data folder', up: relativePaths },
  { version: 6, name: 'one owner per run (pid, host, heartbeat)', up: runOwners },
  { version: 7, name: 'pairwise A/B review of student and teacher answers', up: pairwiseReview },
];

export const LATEST_SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database up to the latest schema, one transaction per migration, each bumping
 * user_version. Refuses a database written by newer code rather than guessing at its shape.
 */
export function migrate(
  db: Database.Database,
  migrations: readonly Migration[] = MIGRATIONS,
  path = '',
): { from: number; to: number } {
  const from = schemaVersion(db);
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  if (from > latest) {
    throw new StoreError(
      `Database schema version ${from} is newer than this app knows (${latest}); update Character Studio to open it.`,
      { path, found: from, known: latest },
    );
  }
  for (const m of migrations) {
    if (m.version <= from) continue;
    const apply = db.transaction(() => {
      m.up(db);
      if (m.rebuildsTables) {
        const broken = db.pragma('foreign_key_check') as unknown[];
        if (broken.length > 0) throw new Error(`${broken.length} rows break a foreign key after the rebuild`);
      }
      // PRAGMA cannot take a bound parameter; the value is a code constant integer.
      db.pragma(`user_version = ${Math.trunc(m.version)}`);
    });
    // foreign_keys cannot change inside a transaction: switch it around the migration.
    const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
    if (m.rebuildsTables) db.pragma('foreign_keys = OFF');
    try {
      apply();
    } catch (err) {
      throw new StoreError(`Migration ${m.version} (${m.name}) failed: ${errorText(err)}`, {
        path,
        version: m.version,
      });
    } finally {
      if (m.rebuildsTables) db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
    }
  }
  return { from, to: schemaVersion(db) };
}
