import type Database from 'better-sqlite3';
import type { ModelRole, PairwiseChoice, PairwiseItem } from '../../../src-shared/contract';
import { NotFoundError } from '../../core/errors';
import { newId, nowIso } from '../util';

export interface NewPairwiseItem {
  questionId: number | null;
  category: string;
  question: string;
  answerA: string;
  answerB: string;
  sourceA: ModelRole;
  sourceB: ModelRole;
}

export interface PairwiseSheetRecord {
  id: string;
  runId: string;
  evaluationId: string | null;
  seed: number;
  unblinded: boolean;
  createdAt: string;
}

interface SheetDbRow {
  id: string;
  run_id: string;
  evaluation_id: string | null;
  seed: number;
  unblinded: number;
  created_at: string;
}

interface ItemDbRow {
  id: number;
  sheet_id: string;
  position: number;
  question_id: number | null;
  category: string;
  question: string;
  answer_a: string;
  answer_b: string;
  source_a: ModelRole;
  source_b: ModelRole;
  choice: PairwiseChoice | null;
}

function toItem(r: ItemDbRow): PairwiseItem {
  return {
    id: r.id,
    sheetId: r.sheet_id,
    position: r.position,
    category: r.category,
    question: r.question,
    answerA: r.answer_a,
    answerB: r.answer_b,
    sourceA: r.source_a,
    sourceB: r.source_b,
    choice: r.choice,
  };
}

function toSheet(r: SheetDbRow): PairwiseSheetRecord {
  return {
    id: r.id,
    runId: r.run_id,
    evaluationId: r.evaluation_id,
    seed: r.seed,
    unblinded: r.unblinded === 1,
    createdAt: r.created_at,
  };
}

export interface CreatePairwiseSheetInput {
  id?: string;
  runId: string;
  evaluationId: string | null;
  seed: number;
  items: readonly NewPairwiseItem[];
}

export interface PairwiseRepo {
  /** The sheet and all its pairs in one transaction. */
  createSheet(input: CreatePairwiseSheetInput): PairwiseSheetRecord;
  sheet(id: string): PairwiseSheetRecord | null;
  /** Pairs in position order, sources included (the review module hides them while blind). */
  items(sheetId: string): PairwiseItem[];
  /** Throws NotFoundError for an unknown id. */
  item(itemId: number): PairwiseItem;
  setChoice(itemId: number, choice: PairwiseChoice | null): PairwiseItem;
  setUnblinded(sheetId: string): void;
  /** A run's sheets, newest first. */
  listSheets(runId: string): PairwiseSheetRecord[];
  /** Judged and total pairs of a sheet, without reading the answers. */
  counts(sheetId: string): { judged: number; total: number };
}

export function pairwiseRepo(db: Database.Database): PairwiseRepo {
  const insertSheet = db.prepare(
    'INSERT INTO pairwise_sheets (id, run_id, evaluation_id, seed, unblinded, created_at) VALUES (?, ?, ?, ?, 0, ?)',
  );
  const insertItem = db.prepare(
    `INSERT INTO pairwise_items
       (sheet_id, position, question_id, category, question, answer_a, answer_b, source_a, source_b, choice, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)`,
  );
  const sheetStmt = db.prepare<[string], SheetDbRow>('SELECT * FROM pairwise_sheets WHERE id = ?');
  const itemsStmt = db.prepare<[string], ItemDbRow>(
    'SELECT * FROM pairwise_items WHERE sheet_id = ? ORDER BY position',
  );
  const itemStmt = db.prepare<[number], ItemDbRow>('SELECT * FROM pairwise_items WHERE id = ?');
  const choiceStmt = db.prepare('UPDATE pairwise_items SET choice = ?, updated_at = ? WHERE id = ?');
  const unblindStmt = db.prepare('UPDATE pairwise_sheets SET unblinded = 1 WHERE id = ?');
  const listStmt = db.prepare<[string], SheetDbRow>(
    'SELECT * FROM pairwise_sheets WHERE run_id = ? ORDER BY created_at DESC, rowid DESC',
  );
  const countsStmt = db.prepare<[string], { judged: number | null; total: number }>(
    'SELECT COUNT(choice) AS judged, COUNT(*) AS total FROM pairwise_items WHERE sheet_id = ?',
  );

  const create = db.transaction((input: CreatePairwiseSheetInput): string => {
    const id = input.id ?? newId('pairwise');
    const now = nowIso();
    insertSheet.run(id, input.runId, input.evaluationId, Math.trunc(input.seed), now);
    input.items.forEach((it, position) => {
      insertItem.run(
        id,
        position,
        it.questionId,
        it.category,
        it.question,
        it.answerA,
        it.answerB,
        it.sourceA,
        it.sourceB,
        now,
      );
    });
    return id;
  });
  const item = (itemId: number): PairwiseItem => {
    const r = itemStmt.get(itemId);
    if (!r) throw new NotFoundError('pairwise item', itemId);
    return toItem(r);
  };

  return {
    createSheet: (input) => {
      const id = create(input);
      const r = sheetStmt.get(id);
      if (!r) throw new NotFoundError('pairwise sheet', id);
      return toSheet(r);
    },
    sheet: (id) => {
      const r = sheetStmt.get(id);
      return r ? toSheet(r) : null;
    },
    items: (sheetId) => itemsStmt.all(sheetId).map(toItem),
    item,
    setChoice: (itemId, choice) => {
      const result = choiceStmt.run(choice, nowIso(), itemId);
      if (result.changes === 0) throw new NotFoundError('pairwise item', itemId);
      return item(itemId);
    },
    setUnblinded: (sheetId) => {
      unblindStmt.run(sheetId);
    },
    listSheets: (runId) => listStmt.all(runId).map(toSheet),
    counts: (sheetId) => {
      const r = countsStmt.get(sheetId);
      return { judged: r?.judged ?? 0, total: r?.total ?? 0 };
    },
  };
}
