import type Database from 'better-sqlite3';

/**
 * One owner per run. A process that runs a run's steps holds its row here (its pid, host and a
 * heartbeat); a second process is refused while that owner lives, and a run left `running` by
 * an owner that died is shown `interrupted`. The row lives in SQLite so that taking it is one
 * transaction, never a race between two processes.
 */
export function up(db: Database.Database): void {
  db.exec(`
    CREATE TABLE run_owners (
      run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
      token TEXT NOT NULL,
      pid INTEGER NOT NULL,
      host TEXT NOT NULL,
      engine_pid INTEGER,
      command TEXT NOT NULL DEFAULT '',
      started_at TEXT NOT NULL,
      heartbeat_at TEXT NOT NULL
    );
  `);
}
