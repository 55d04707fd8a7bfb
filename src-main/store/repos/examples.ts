import type Database from 'better-sqlite3';
import type { AuditSummary, TeacherExampleRow } from '../../../src-shared/contract';
import { nowIso, parseJson } from '../util';

export interface NewTeacherExample {
  questionId: number;
  answer: string;
  promptTokens: number;
  completionTokens: number;
  provider: string;
  model: string;
  latencyMs: number;
  /** The teacher reasoned before answering; the reasoning was cut out of `answer`. */
  thinking?: boolean;
}

export interface ExampleQuery {
  category?: string;
  /** Only examples carrying this audit flag; the special value "kept" selects examples that passed. */
  flag?: string;
  split?: 'train' | 'val';
  /** Only examples the audit kept (flagged ones are excluded). */
  keptOnly?: boolean;
  offset?: number;
  limit?: number;
}

export interface AuditResult {
  exampleId: number;
  flags: string[];
  kept: boolean;
}

interface ExampleDbRow {
  id: number;
  question_id: number;
  category: string | null;
  question: string | null;
  answer: string;
  prompt_tokens: number;
  completion_tokens: number;
  flags: string | null;
  split: 'train' | 'val' | null;
  thinking: number;
}

function toRow(r: ExampleDbRow): TeacherExampleRow {
  return {
    id: r.id,
    questionId: r.question_id,
    category: r.category ?? '',
    question: r.question ?? '',
    answer: r.answer,
    promptTokens: r.prompt_tokens,
    completionTokens: r.completion_tokens,
    flags: parseJson<string[]>(r.flags, []),
    split: r.split,
    ...(r.thinking === 1 ? { thinking: true } : {}),
  };
}

const SELECT_JOINED = `
  SELECT e.id, e.question_id, q.category, q.text AS question, e.answer, e.prompt_tokens, e.completion_tokens,
         a.flags, s.split, e.thinking
  FROM teacher_examples e
  LEFT JOIN questions q ON q.run_id = e.run_id AND q.id = e.question_id
  LEFT JOIN audit_results a ON a.example_id = e.id
  LEFT JOIN splits s ON s.example_id = e.id`;

/** WHERE clause built from fixed fragments only; every value is a bound parameter. */
function where(runId: string, q: ExampleQuery): { sql: string; params: Record<string, unknown> } {
  const parts = ['e.run_id = @runId'];
  const params: Record<string, unknown> = { runId };
  if (q.category) {
    parts.push('q.category = @category');
    params.category = q.category;
  }
  if (q.flag === 'kept') {
    parts.push('a.kept = 1');
  } else if (q.flag) {
    parts.push('EXISTS (SELECT 1 FROM json_each(a.flags) f WHERE f.value = @flag)');
    params.flag = q.flag;
  }
  if (q.split) {
    parts.push('s.split = @split');
    params.split = q.split;
  }
  if (q.keptOnly) parts.push('a.kept = 1');
  return { sql: parts.join(' AND '), params };
}

export interface ExamplesRepo {
  /** Inserts in one transaction; a question already answered in this run is skipped. Returns rows added. */
  insertMany(runId: string, rows: readonly NewTeacherExample[]): number;
  listByRun(runId: string, query?: ExampleQuery): TeacherExampleRow[];
  countByRun(runId: string, query?: ExampleQuery): number;
  /** Question ids that already have an answer: what a resumed generation skips. */
  existingQuestionIds(runId: string): Set<number>;
  categories(runId: string): string[];
  /** Every audit flag present in the run. */
  flags(runId: string): string[];
  deleteByRun(runId: string): number;
}

export function examplesRepo(db: Database.Database): ExamplesRepo {
  const insertStmt = db.prepare(
    `INSERT OR IGNORE INTO teacher_examples
       (run_id, question_id, answer, prompt_tokens, completion_tokens, provider, model, latency_ms, created_at, thinking)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const idsStmt = db.prepare<[string], { question_id: number }>(
    'SELECT question_id FROM teacher_examples WHERE run_id = ?',
  );
  const catStmt = db.prepare<[string], { category: string }>(
    `SELECT DISTINCT q.category FROM teacher_examples e JOIN questions q ON q.run_id = e.run_id AND q.id = e.question_id
     WHERE e.run_id = ? ORDER BY q.category`,
  );
  const flagStmt = db.prepare<[string], { flag: string }>(
    `SELECT DISTINCT f.value AS flag FROM teacher_examples e JOIN audit_results a ON a.example_id = e.id,
       json_each(a.flags) f WHERE e.run_id = ? ORDER BY flag`,
  );
  const deleteStmt = db.prepare('DELETE FROM teacher_examples WHERE run_id = ?');

  const insertMany = db.transaction((runId: string, rows: readonly NewTeacherExample[]): number => {
    const now = nowIso();
    let added = 0;
    for (const r of rows) {
      added += insertStmt.run(
        runId,
        r.questionId,
        r.answer,
        r.promptTokens,
        r.completionTokens,
        r.provider,
        r.model,
        r.latencyMs,
        now,
        r.thinking ? 1 : 0,
      ).changes;
    }
    return added;
  });

  return {
    insertMany: (runId, rows) => insertMany(runId, rows),
    listByRun: (runId, query = {}) => {
      const w = where(runId, query);
      const limit = query.limit ?? -1; // SQLite: negative LIMIT means no limit
      const offset = query.offset ?? 0;
      return db
        .prepare<Record<string, unknown>, ExampleDbRow>(
          `${SELECT_JOINED} WHERE ${w.sql} ORDER BY e.id LIMIT @limit OFFSET @offset`,
        )
        .all({ ...w.params, limit, offset })
        .map(toRow);
    },
    countByRun: (runId, query = {}) => {
      const w = where(runId, query);
      return (
        db
          .prepare<Record<string, unknown>, { n: number }>(
            `SELECT COUNT(*) AS n FROM teacher_examples e
             LEFT JOIN questions q ON q.run_id = e.run_id AND q.id = e.question_id
             LEFT JOIN audit_results a ON a.example_id = e.id
             LEFT JOIN splits s ON s.example_id = e.id WHERE ${w.sql}`,
          )
          .get(w.params)?.n ?? 0
      );
    },
    existingQuestionIds: (runId) => new Set(idsStmt.all(runId).map((r) => r.question_id)),
    categories: (runId) => catStmt.all(runId).map((r) => r.category),
    flags: (runId) => flagStmt.all(runId).map((r) => r.flag),
    deleteByRun: (runId) => deleteStmt.run(runId).changes,
  };
}

export interface AuditRepo {
  /** Replaces the run's audit results and summary in one transaction. */
  save(runId: string, results: readonly AuditResult[], summary: AuditSummary): void;
  summary(runId: string): AuditSummary | null;
  results(runId: string): Map<number, AuditResult>;
}

export function auditRepo(db: Database.Database): AuditRepo {
  const clearStmt = db.prepare(
    'DELETE FROM audit_results WHERE example_id IN (SELECT id FROM teacher_examples WHERE run_id = ?)',
  );
  const insertStmt = db.prepare(
    'INSERT OR REPLACE INTO audit_results (example_id, flags, kept) VALUES (?, ?, ?)',
  );
  const summaryStmt = db.prepare(
    'INSERT OR REPLACE INTO audit_summaries (run_id, summary, created_at) VALUES (?, ?, ?)',
  );
  const getSummary = db.prepare<[string], { summary: string }>(
    'SELECT summary FROM audit_summaries WHERE run_id = ?',
  );
  const resultsStmt = db.prepare<[string], { example_id: number; flags: string; kept: number }>(
    `SELECT a.* FROM audit_results a JOIN teacher_examples e ON e.id = a.example_id WHERE e.run_id = ?`,
  );

  const save = db.transaction((runId: string, results: readonly AuditResult[], summary: AuditSummary) => {
    clearStmt.run(runId);
    for (const r of results) insertStmt.run(r.exampleId, JSON.stringify(r.flags), r.kept ? 1 : 0);
    summaryStmt.run(runId, JSON.stringify(summary), nowIso());
  });

  return {
    save: (runId, results, summary) => save(runId, results, summary),
    summary: (runId) => {
      const r = getSummary.get(runId);
      return r ? parseJson<AuditSummary>(r.summary, null as unknown as AuditSummary) : null;
    },
    results: (runId) =>
      new Map(
        resultsStmt
          .all(runId)
          .map((r) => [
            r.example_id,
            { exampleId: r.example_id, flags: parseJson<string[]>(r.flags, []), kept: r.kept === 1 },
          ]),
      ),
  };
}

export interface SplitsRepo {
  /** Replaces the run's split assignment in one transaction. */
  save(runId: string, assignments: readonly { exampleId: number; split: 'train' | 'val' }[]): void;
  counts(runId: string): { train: number; val: number };
}

export function splitsRepo(db: Database.Database): SplitsRepo {
  const clearStmt = db.prepare(
    'DELETE FROM splits WHERE example_id IN (SELECT id FROM teacher_examples WHERE run_id = ?)',
  );
  const insertStmt = db.prepare('INSERT OR REPLACE INTO splits (example_id, split) VALUES (?, ?)');
  const countStmt = db.prepare<[string], { split: 'train' | 'val'; n: number }>(
    `SELECT s.split, COUNT(*) AS n FROM splits s JOIN teacher_examples e ON e.id = s.example_id
     WHERE e.run_id = ? GROUP BY s.split`,
  );
  const save = db.transaction(
    (runId: string, assignments: readonly { exampleId: number; split: 'train' | 'val' }[]) => {
      clearStmt.run(runId);
      for (const a of assignments) insertStmt.run(a.exampleId, a.split);
    },
  );
  return {
    save: (runId, assignments) => save(runId, assignments),
    counts: (runId) => {
      const out = { train: 0, val: 0 };
      for (const r of countStmt.all(runId)) out[r.split] = r.n;
      return out;
    },
  };
}
