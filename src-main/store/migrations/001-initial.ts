import type Database from 'better-sqlite3';

/**
 * The initial schema. Shipped migrations are never edited: a change is a new numbered file.
 * Times are ISO-8601 UTC strings; JSON columns hold objects serialised by the repositories.
 */
export function up(db: Database.Database): void {
  db.exec(`
    CREATE TABLE personas (
      id TEXT NOT NULL,
      version INTEGER NOT NULL,
      format TEXT NOT NULL CHECK (format IN ('yaml', 'text')),
      source TEXT NOT NULL,
      name TEXT NOT NULL,
      description TEXT NOT NULL DEFAULT '',
      created_at TEXT NOT NULL,
      PRIMARY KEY (id, version)
    );

    CREATE TABLE runs (
      id TEXT PRIMARY KEY,
      persona_id TEXT NOT NULL,
      persona_version INTEGER NOT NULL,
      scale TEXT NOT NULL,
      status TEXT NOT NULL,
      step TEXT,
      config TEXT NOT NULL DEFAULT '{}',
      error TEXT,
      timings TEXT NOT NULL DEFAULT '{}',
      dir TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE INDEX runs_created ON runs (created_at);

    CREATE TABLE questions (
      run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      id INTEGER NOT NULL,
      category TEXT NOT NULL,
      text TEXT NOT NULL,
      heldout INTEGER NOT NULL DEFAULT 0,
      template TEXT,
      PRIMARY KEY (run_id, id)
    );

    CREATE TABLE teacher_examples (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      question_id INTEGER NOT NULL,
      answer TEXT NOT NULL,
      prompt_tokens INTEGER NOT NULL DEFAULT 0,
      completion_tokens INTEGER NOT NULL DEFAULT 0,
      provider TEXT NOT NULL DEFAULT '',
      model TEXT NOT NULL DEFAULT '',
      latency_ms REAL NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL,
      -- One answer per question per run: a resumed generation never duplicates.
      UNIQUE (run_id, question_id)
    );

    CREATE TABLE audit_results (
      example_id INTEGER PRIMARY KEY REFERENCES teacher_examples (id) ON DELETE CASCADE,
      flags TEXT NOT NULL DEFAULT '[]',
      kept INTEGER NOT NULL
    );

    CREATE TABLE audit_summaries (
      run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
      summary TEXT NOT NULL,
      created_at TEXT NOT NULL
    );

    CREATE TABLE splits (
      example_id INTEGER PRIMARY KEY REFERENCES teacher_examples (id) ON DELETE CASCADE,
      split TEXT NOT NULL CHECK (split IN ('train', 'val'))
    );

    CREATE TABLE training_jobs (
      id TEXT PRIMARY KEY,
      run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      kind TEXT NOT NULL CHECK (kind IN ('sft', 'dpo')),
      status TEXT NOT NULL,
      config TEXT NOT NULL,
      step INTEGER NOT NULL DEFAULT 0,
      total_steps INTEGER NOT NULL DEFAULT 0,
      error TEXT,
      created_at TEXT NOT NULL,
      started_at TEXT,
      finished_at TEXT
    );
    CREATE INDEX training_jobs_run ON training_jobs (run_id, created_at);

    CREATE TABLE step_metrics (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      job_id TEXT NOT NULL REFERENCES training_jobs (id) ON DELETE CASCADE,
      step INTEGER NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('train', 'eval')),
      loss REAL NOT NULL,
      lr REAL,
      grad_norm REAL,
      tokens_per_s REAL,
      extra TEXT NOT NULL DEFAULT '{}',
      created_at TEXT NOT NULL,
      -- A resumed job may report a step again: the latest report wins.
      UNIQUE (job_id, kind, step)
    );

    CREATE TABLE checkpoints (
      id TEXT PRIMARY KEY,
      run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      job_id TEXT REFERENCES training_jobs (id) ON DELETE SET NULL,
      step INTEGER NOT NULL,
      path TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('candidate', 'promoted', 'archived')),
      metrics TEXT NOT NULL DEFAULT '{}',
      lineage TEXT NOT NULL,
      created_at TEXT NOT NULL,
      promoted_at TEXT
    );
    CREATE INDEX checkpoints_run ON checkpoints (run_id, step);

    -- Promotion history: one row per promotion, so rollback knows what came before.
    CREATE TABLE promotions (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      checkpoint_id TEXT NOT NULL REFERENCES checkpoints (id) ON DELETE CASCADE,
      action TEXT NOT NULL CHECK (action IN ('promote', 'rollback')),
      created_at TEXT NOT NULL
    );

    CREATE TABLE evaluations (
      id TEXT PRIMARY KEY,
      run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      checkpoint_id TEXT REFERENCES checkpoints (id) ON DELETE SET NULL,
      summary TEXT NOT NULL,
      created_at TEXT NOT NULL
    );

    CREATE TABLE evaluation_items (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      evaluation_id TEXT NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
      question_id INTEGER NOT NULL,
      category TEXT NOT NULL,
      question TEXT NOT NULL,
      answers TEXT NOT NULL,
      scores TEXT NOT NULL
    );

    CREATE TABLE savings (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      checkpoint_id TEXT,
      summary TEXT NOT NULL,
      created_at TEXT NOT NULL
    );

    CREATE TABLE review_sheets (
      id TEXT PRIMARY KEY,
      run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      evaluation_id TEXT,
      blind INTEGER NOT NULL,
      unblinded INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL
    );

    CREATE TABLE review_items (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      sheet_id TEXT NOT NULL REFERENCES review_sheets (id) ON DELETE CASCADE,
      position INTEGER NOT NULL,
      category TEXT NOT NULL,
      question TEXT NOT NULL,
      answer TEXT NOT NULL,
      source TEXT NOT NULL CHECK (source IN ('student', 'teacher', 'base')),
      ratings TEXT NOT NULL DEFAULT '{}',
      note TEXT NOT NULL DEFAULT '',
      updated_at TEXT NOT NULL,
      UNIQUE (sheet_id, position)
    );

    CREATE TABLE chat_sessions (
      id TEXT PRIMARY KEY,
      checkpoint_id TEXT,
      with_teacher INTEGER NOT NULL,
      persona_id TEXT,
      created_at TEXT NOT NULL
    );

    CREATE TABLE chat_turns (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      session_id TEXT NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
      lane TEXT NOT NULL CHECK (lane IN ('student', 'teacher')),
      role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
      content TEXT NOT NULL,
      prompt_tokens INTEGER,
      completion_tokens INTEGER,
      latency_ms REAL,
      ttft_ms REAL,
      created_at TEXT NOT NULL
    );
    CREATE INDEX chat_turns_session ON chat_turns (session_id, id);

    -- The third recipe: approved good pairs collected from evaluation logs.
    CREATE TABLE good_pairs (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      prompt TEXT NOT NULL,
      answer TEXT NOT NULL,
      score REAL NOT NULL,
      approved INTEGER NOT NULL DEFAULT 0,
      source TEXT NOT NULL DEFAULT '',
      created_at TEXT NOT NULL,
      UNIQUE (prompt, answer)
    );

    -- Small named settings, e.g. the active checkpoint.
    CREATE TABLE kv (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
  `);
}
