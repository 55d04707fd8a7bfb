import type Database from 'better-sqlite3';

/** One question of a run. Ids are unique within the run (1-based, assigned by the generator). */
export interface QuestionRecord {
  id: number;
  category: string;
  text: string;
  /** Held-out questions are for evaluation only and never reach training. */
  heldout: boolean;
  /** The template the question was filled from, or its origin (e.g. "character-llm"). */
  template: string | null;
}

interface QuestionDbRow {
  id: number;
  category: string;
  text: string;
  heldout: number;
  template: string | null;
}

function toRecord(r: QuestionDbRow): QuestionRecord {
  return { id: r.id, category: r.category, text: r.text, heldout: r.heldout === 1, template: r.template };
}

export interface QuestionsRepo {
  /** Inserts in one transaction; a question id already stored for the run is left as it is. Returns rows added. */
  insertMany(runId: string, questions: readonly QuestionRecord[]): number;
  listByRun(runId: string, opts?: { heldout?: boolean }): QuestionRecord[];
  countByRun(runId: string, opts?: { heldout?: boolean }): number;
  deleteByRun(runId: string): number;
}

export function questionsRepo(db: Database.Database): QuestionsRepo {
  const insertStmt = db.prepare(
    `INSERT OR IGNORE INTO questions (run_id, id, category, text, heldout, template)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const listAll = db.prepare<[string], QuestionDbRow>('SELECT * FROM questions WHERE run_id = ? ORDER BY id');
  const listHeld = db.prepare<[string, number], QuestionDbRow>(
    'SELECT * FROM questions WHERE run_id = ? AND heldout = ? ORDER BY id',
  );
  const countAll = db.prepare<[string], { n: number }>(
    'SELECT COUNT(*) AS n FROM questions WHERE run_id = ?',
  );
  const countHeld = db.prepare<[string, number], { n: number }>(
    'SELECT COUNT(*) AS n FROM questions WHERE run_id = ? AND heldout = ?',
  );
  const deleteStmt = db.prepare('DELETE FROM questions WHERE run_id = ?');

  const insertMany = db.transaction((runId: string, qs: readonly QuestionRecord[]): number => {
    let added = 0;
    for (const q of qs) {
      added += insertStmt.run(runId, q.id, q.category, q.text, q.heldout ? 1 : 0, q.template).changes;
    }
    return added;
  });

  return {
    insertMany: (runId, qs) => insertMany(runId, qs),
    listByRun: (runId, opts) =>
      (opts?.heldout === undefined ? listAll.all(runId) : listHeld.all(runId, opts.heldout ? 1 : 0)).map(
        toRecord,
      ),
    countByRun: (runId, opts) =>
      (opts?.heldout === undefined ? countAll.get(runId) : countHeld.get(runId, opts.heldout ? 1 : 0))?.n ??
      0,
    deleteByRun: (runId) => deleteStmt.run(runId).changes,
  };
}
