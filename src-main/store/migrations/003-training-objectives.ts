import type Database from 'better-sqlite3';

/**
 * Training objectives. A training job may now be knowledge distillation ('kd', forward KL to the
 * teacher's top-k token distributions) or on-policy distillation ('on-policy'), so the job kind's
 * CHECK constraint is widened (SQLite rebuilds the table for that). Every stored training
 * configuration (a run's, a job's, a checkpoint's lineage) gets the fields that did not exist
 * yet, set to what those runs really did: objective 'sft', kdWeight 0; and a run's generation
 * settings get topK 0, because no earlier run captured the teacher's distributions, and their
 * evaluation settings topP 1, because they answered held-out questions greedily. These are
 * set, not defaulted: migration 2 may have filled a legacy run from today's scale defaults.
 */
export function up(db: Database.Database): void {
  db.exec(`
    CREATE TABLE training_jobs_new (
      id TEXT PRIMARY KEY,
      run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      kind TEXT NOT NULL CHECK (kind IN ('sft', 'dpo', 'kd', 'on-policy')),
      status TEXT NOT NULL,
      config TEXT NOT NULL,
      step INTEGER NOT NULL DEFAULT 0,
      total_steps INTEGER NOT NULL DEFAULT 0,
      error TEXT,
      created_at TEXT NOT NULL,
      started_at TEXT,
      finished_at TEXT
    );
    INSERT INTO training_jobs_new SELECT id, run_id, kind, status, config, step, total_steps, error,
      created_at, started_at, finished_at FROM training_jobs;
    DROP TABLE training_jobs;
    ALTER TABLE training_jobs_new RENAME TO training_jobs;
    CREATE INDEX training_jobs_run ON training_jobs (run_id, created_at);
  `);

  const withObjective = (training: unknown): unknown =>
    typeof training === 'object' && training !== null && !Array.isArray(training)
      ? { ...training, objective: 'sft', kdWeight: 0 }
      : training;

  rewriteJson(db, 'training_jobs', 'id', 'config', withObjective);
  rewriteJson(db, 'checkpoints', 'id', 'lineage', (lineage) => {
    if (typeof lineage !== 'object' || lineage === null) return lineage;
    const l = lineage as { config?: unknown };
    return { ...l, config: withObjective(l.config) };
  });
  rewriteJson(db, 'runs', 'id', 'config', (config) => {
    if (typeof config !== 'object' || config === null) return config;
    const c = config as { scaleConfig?: { training?: unknown; generation?: unknown; evaluation?: unknown } };
    const sc = c.scaleConfig;
    if (typeof sc !== 'object' || sc === null) return config;
    const generation =
      typeof sc.generation === 'object' && sc.generation !== null
        ? { ...sc.generation, topK: 0 }
        : sc.generation;
    // Their held-out answers were greedy: top-p 1.
    const evaluation =
      typeof sc.evaluation === 'object' && sc.evaluation !== null
        ? { ...sc.evaluation, topP: 1 }
        : sc.evaluation;
    return { ...c, scaleConfig: { ...sc, generation, evaluation, training: withObjective(sc.training) } };
  });
}

/** Rewrites one JSON column row by row; text that is not JSON is left for its reader to report. */
function rewriteJson(
  db: Database.Database,
  table: 'runs' | 'training_jobs' | 'checkpoints',
  key: 'id',
  column: 'config' | 'lineage',
  change: (value: unknown) => unknown,
): void {
  // Table and column names come from the literal types above, never from data.
  const rows = db
    .prepare<[], { k: string; v: string }>(`SELECT ${key} AS k, ${column} AS v FROM ${table}`)
    .all();
  const write = db.prepare(`UPDATE ${table} SET ${column} = ? WHERE ${key} = ?`);
  for (const row of rows) {
    let value: unknown;
    try {
      value = JSON.parse(row.v) as unknown;
    } catch {
      continue;
    }
    write.run(JSON.stringify(change(value)), row.k);
  }
}
