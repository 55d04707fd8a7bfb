import type Database from 'better-sqlite3';

/**
 * Pairwise A/B review: on one held-out question the student's and the teacher's answers side by
 * side, the reviewer picks the better one or calls a tie. Each pair keeps which model wrote the
 * answer shown as A and as B (seeded per pair when the sheet is made), so the sources can stay
 * hidden on screen until the sheet is un-blinded while the summary still knows who won.
 * `choice` is NULL until the pair is judged.
 */
export function up(db: Database.Database): void {
  db.exec(`
    CREATE TABLE pairwise_sheets (
      id TEXT PRIMARY KEY,
      run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      evaluation_id TEXT,
      seed INTEGER NOT NULL,
      unblinded INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL
    );
    CREATE INDEX pairwise_sheets_run ON pairwise_sheets (run_id, created_at);

    CREATE TABLE pairwise_items (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      sheet_id TEXT NOT NULL REFERENCES pairwise_sheets (id) ON DELETE CASCADE,
      position INTEGER NOT NULL,
      question_id INTEGER,
      category TEXT NOT NULL,
      question TEXT NOT NULL,
      answer_a TEXT NOT NULL,
      answer_b TEXT NOT NULL,
      source_a TEXT NOT NULL CHECK (source_a IN ('student', 'teacher', 'base')),
      source_b TEXT NOT NULL CHECK (source_b IN ('student', 'teacher', 'base')),
      choice TEXT CHECK (choice IN ('a', 'b', 'tie')),
      updated_at TEXT NOT NULL,
      UNIQUE (sheet_id, position),
      CHECK (source_a <> source_b)
    );
  `);
}
