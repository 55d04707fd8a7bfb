import type Database from 'better-sqlite3';
import type { EvaluationItemRow, EvaluationSummary, SavingsSummary } from '../../../src-shared/contract';
import { newId, nowIso, parseJson } from '../util';

/** An evaluation item plus any further per-item scores (keyword hits, judge scores, ...). */
export interface EvaluationItemRecord extends EvaluationItemRow {
  extraScores?: Record<string, unknown>;
}

export interface EvaluationRecord {
  id: string;
  runId: string;
  checkpointId: string | null;
  summary: EvaluationSummary;
  items: EvaluationItemRecord[];
  createdAt: string;
}

interface EvalDbRow {
  id: string;
  run_id: string;
  checkpoint_id: string | null;
  summary: string;
  created_at: string;
}

interface ItemDbRow {
  question_id: number;
  category: string;
  question: string;
  answers: string;
  scores: string;
}

interface StoredScores {
  inCharacter: EvaluationItemRow['inCharacter'];
  similarityToTeacher: EvaluationItemRow['similarityToTeacher'];
  extra?: Record<string, unknown>;
}

export interface EvaluationsRepo {
  /** Stores a summary and its items in one transaction; returns the evaluation id. */
  save(input: {
    id?: string;
    runId: string;
    checkpointId: string | null;
    summary: EvaluationSummary;
    items: readonly EvaluationItemRecord[];
  }): string;
  get(id: string): EvaluationRecord | null;
  latest(runId: string): EvaluationRecord | null;
  list(runId: string): Omit<EvaluationRecord, 'items'>[];
  /** Replaces an evaluation's summary (a later measurement of the same checkpoint, e.g. robustness). */
  updateSummary(id: string, summary: EvaluationSummary): void;
}

export function evaluationsRepo(db: Database.Database): EvaluationsRepo {
  const insertEval = db.prepare(
    'INSERT INTO evaluations (id, run_id, checkpoint_id, summary, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const insertItem = db.prepare(
    `INSERT INTO evaluation_items (evaluation_id, question_id, category, question, answers, scores)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const getStmt = db.prepare<[string], EvalDbRow>('SELECT * FROM evaluations WHERE id = ?');
  const latestStmt = db.prepare<[string], EvalDbRow>(
    'SELECT * FROM evaluations WHERE run_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1',
  );
  const updateStmt = db.prepare('UPDATE evaluations SET summary = ? WHERE id = ?');
  const listStmt = db.prepare<[string], EvalDbRow>(
    'SELECT * FROM evaluations WHERE run_id = ? ORDER BY created_at DESC, rowid DESC',
  );
  const itemsStmt = db.prepare<[string], ItemDbRow>(
    'SELECT * FROM evaluation_items WHERE evaluation_id = ? ORDER BY id',
  );

  const head = (r: EvalDbRow): Omit<EvaluationRecord, 'items'> => ({
    id: r.id,
    runId: r.run_id,
    checkpointId: r.checkpoint_id,
    // Evaluations stored before distillation metrics and intervals existed have neither: null.
    summary: withMissingAsNull(parseJson(r.summary, {} as EvaluationSummary)),
    createdAt: r.created_at,
  });
  const full = (r: EvalDbRow): EvaluationRecord => ({
    ...head(r),
    items: itemsStmt.all(r.id).map((i) => {
      const s = parseJson<StoredScores>(i.scores, {} as StoredScores);
      const item: EvaluationItemRecord = {
        questionId: i.question_id,
        category: i.category,
        question: i.question,
        answers: parseJson(i.answers, {} as EvaluationItemRow['answers']),
        inCharacter: s.inCharacter,
        similarityToTeacher: s.similarityToTeacher,
      };
      if (s.extra) item.extraScores = s.extra;
      return item;
    }),
  });

  const save = db.transaction(
    (input: {
      id?: string;
      runId: string;
      checkpointId: string | null;
      summary: EvaluationSummary;
      items: readonly EvaluationItemRecord[];
    }): string => {
      const id = input.id ?? newId('eval');
      insertEval.run(id, input.runId, input.checkpointId, JSON.stringify(input.summary), nowIso());
      for (const it of input.items) {
        const scores: StoredScores = {
          inCharacter: it.inCharacter,
          similarityToTeacher: it.similarityToTeacher,
        };
        if (it.extraScores) scores.extra = it.extraScores;
        insertItem.run(
          id,
          it.questionId,
          it.category,
          it.question,
          JSON.stringify(it.answers),
          JSON.stringify(scores),
        );
      }
      return id;
    },
  );

  return {
    save: (input) => save(input),
    get: (id) => {
      const r = getStmt.get(id);
      return r ? full(r) : null;
    },
    latest: (runId) => {
      const r = latestStmt.get(runId);
      return r ? full(r) : null;
    },
    list: (runId) => listStmt.all(runId).map(head),
    updateSummary: (id, summary) => {
      updateStmt.run(JSON.stringify(summary), id);
    },
  };
}

export interface SavingsRepo {
  save(runId: string, checkpointId: string | null, summary: SavingsSummary): void;
  latest(runId: string): SavingsSummary | null;
}

export function savingsRepo(db: Database.Database): SavingsRepo {
  const insertStmt = db.prepare(
    'INSERT INTO savings (run_id, checkpoint_id, summary, created_at) VALUES (?, ?, ?, ?)',
  );
  const latestStmt = db.prepare<[string], { summary: string }>(
    'SELECT summary FROM savings WHERE run_id = ? ORDER BY id DESC LIMIT 1',
  );
  return {
    save: (runId, checkpointId, summary) => {
      insertStmt.run(runId, checkpointId, JSON.stringify(summary), nowIso());
    },
    latest: (runId) => {
      const r = latestStmt.get(runId);
      return r ? parseJson<SavingsSummary>(r.summary, {} as SavingsSummary) : null;
    },
  };
}

/** Evaluations stored before distillation metrics and intervals existed have neither: null. */
function withMissingAsNull(summary: EvaluationSummary): EvaluationSummary {
  return { ...summary, distillation: summary.distillation ?? null, intervals: summary.intervals ?? null };
}
