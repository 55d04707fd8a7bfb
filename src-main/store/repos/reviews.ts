import type Database from 'better-sqlite3';
import type { ModelRole, ReviewDimension, ReviewItem } from '../../../src-shared/contract';
import { NotFoundError } from '../../core/errors';
import { newId, nowIso, parseJson } from '../util';

export interface NewReviewItem {
  category: string;
  question: string;
  answer: string;
  source: ModelRole;
}

export interface ReviewSheetRecord {
  id: string;
  runId: string;
  evaluationId: string | null;
  blind: boolean;
  unblinded: boolean;
  createdAt: string;
}

interface SheetDbRow {
  id: string;
  run_id: string;
  evaluation_id: string | null;
  blind: number;
  unblinded: number;
  created_at: string;
}

interface ItemDbRow {
  id: number;
  sheet_id: string;
  position: number;
  category: string;
  question: string;
  answer: string;
  source: ModelRole;
  ratings: string;
  note: string;
}

function toItem(r: ItemDbRow): ReviewItem {
  return {
    id: r.id,
    sheetId: r.sheet_id,
    position: r.position,
    category: r.category,
    question: r.question,
    answer: r.answer,
    source: r.source,
    ratings: parseJson<Partial<Record<ReviewDimension, number>>>(r.ratings, {}),
    note: r.note,
  };
}

function toSheet(r: SheetDbRow): ReviewSheetRecord {
  return {
    id: r.id,
    runId: r.run_id,
    evaluationId: r.evaluation_id,
    blind: r.blind === 1,
    unblinded: r.unblinded === 1,
    createdAt: r.created_at,
  };
}

export interface ReviewsRepo {
  createSheet(input: {
    id?: string;
    runId: string;
    evaluationId: string | null;
    blind: boolean;
    items: readonly NewReviewItem[];
  }): ReviewSheetRecord;
  sheet(id: string): ReviewSheetRecord | null;
  /** Items in position order, sources included (the review module hides them when blind). */
  items(sheetId: string): ReviewItem[];
  item(itemId: number): ReviewItem;
  updateItem(
    itemId: number,
    patch: { ratings?: Partial<Record<ReviewDimension, number>>; note?: string },
  ): ReviewItem;
  setUnblinded(sheetId: string): void;
  listSheets(runId: string): ReviewSheetRecord[];
}

export function reviewsRepo(db: Database.Database): ReviewsRepo {
  const insertSheet = db.prepare(
    'INSERT INTO review_sheets (id, run_id, evaluation_id, blind, unblinded, created_at) VALUES (?, ?, ?, ?, 0, ?)',
  );
  const insertItem = db.prepare(
    `INSERT INTO review_items (sheet_id, position, category, question, answer, source, ratings, note, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, '{}', '', ?)`,
  );
  const sheetStmt = db.prepare<[string], SheetDbRow>('SELECT * FROM review_sheets WHERE id = ?');
  const itemsStmt = db.prepare<[string], ItemDbRow>(
    'SELECT * FROM review_items WHERE sheet_id = ? ORDER BY position',
  );
  const itemStmt = db.prepare<[number], ItemDbRow>('SELECT * FROM review_items WHERE id = ?');
  const updateStmt = db.prepare('UPDATE review_items SET ratings = ?, note = ?, updated_at = ? WHERE id = ?');
  const unblindStmt = db.prepare('UPDATE review_sheets SET unblinded = 1 WHERE id = ?');
  const listStmt = db.prepare<[string], SheetDbRow>(
    'SELECT * FROM review_sheets WHERE run_id = ? ORDER BY created_at DESC, rowid DESC',
  );

  const create = db.transaction(
    (input: {
      id?: string;
      runId: string;
      evaluationId: string | null;
      blind: boolean;
      items: readonly NewReviewItem[];
    }) => {
      const id = input.id ?? newId('review');
      const now = nowIso();
      insertSheet.run(id, input.runId, input.evaluationId, input.blind ? 1 : 0, now);
      input.items.forEach((it, position) => {
        insertItem.run(id, position, it.category, it.question, it.answer, it.source, now);
      });
      return id;
    },
  );
  const item = (itemId: number): ReviewItem => {
    const r = itemStmt.get(itemId);
    if (!r) throw new NotFoundError('review item', itemId);
    return toItem(r);
  };

  return {
    createSheet: (input) => {
      const id = create(input);
      const r = sheetStmt.get(id);
      if (!r) throw new NotFoundError('review sheet', id);
      return toSheet(r);
    },
    sheet: (id) => {
      const r = sheetStmt.get(id);
      return r ? toSheet(r) : null;
    },
    items: (sheetId) => itemsStmt.all(sheetId).map(toItem),
    item,
    updateItem: (itemId, patch) => {
      const cur = item(itemId);
      updateStmt.run(JSON.stringify(patch.ratings ?? cur.ratings), patch.note ?? cur.note, nowIso(), itemId);
      return item(itemId);
    },
    setUnblinded: (sheetId) => {
      unblindStmt.run(sheetId);
    },
    listSheets: (runId) => listStmt.all(runId).map(toSheet),
  };
}
