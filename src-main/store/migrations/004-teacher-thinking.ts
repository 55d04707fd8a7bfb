import type Database from 'better-sqlite3';

/**
 * Teachers that think: a teacher answer whose reasoning (<think>…</think>, or a separate
 * reasoning field) was cut out before it was stored is marked, so the audit can flag it.
 * Every answer stored before this was stored as the teacher wrote it: 0.
 */
export function up(db: Database.Database): void {
  db.exec('ALTER TABLE teacher_examples ADD COLUMN thinking INTEGER NOT NULL DEFAULT 0');
}
