/**
 * The 50-response manual review (spec step 18): 10 answers in each of 5 categories, rated 1-5
 * on the four REVIEW_DIMENSIONS with a note, saved at once. In blind mode the sheet mixes
 * student, teacher and base answers and hides which is which until it is un-blinded.
 * An item passes when every dimension is rated >= 4; the target is 90% of the student's items.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  REVIEW_DIMENSIONS,
  REVIEW_DIMENSION_LABELS,
  type ModelRole,
  type ReviewDimension,
  type ReviewItem,
  type ReviewSheet,
  type ReviewSheetInfo,
  type ReviewSummary,
} from '../../src-shared/contract';
import { toCsv } from '../datasets/csv';
import { mulberry32, shuffled } from '../questions/prng';
import type { EvaluationItemRecord, NewReviewItem, ReviewSheetRecord, Store } from '../store';
import { ReviewError } from './errors';

export { ReviewError } from './errors';
export {
  choosePair,
  createPairwiseSheet,
  exportPairwise,
  getPairwiseSheet,
  listPairwiseSheets,
  pairwiseExportPath,
  pairwiseSummary,
  pickPairs,
  preferenceShare,
  studentScore,
  PAIRWISE_DEFAULT_PAIRS,
  PAIRWISE_MAX_PAIRS,
  PAIRWISE_OPPONENT,
  type CreatePairwiseOptions,
} from './pairwise';

export const REVIEW_TARGET = 0.9;
export const REVIEW_PER_CATEGORY = 10;
/** The spec's five categories (biographical, musical, philosophical, historical, emotional) in this app's names. */
export const REVIEW_CATEGORIES = [
  'biographical',
  'composition',
  'philosophy',
  'historical_context',
  'struggles_triumphs',
];
const MAX_NOTE_CHARS = 5000;

export interface CreateSheetOptions {
  runId: string;
  blind: boolean;
  seed?: number;
  /** Defaults to the run's latest evaluation. */
  evaluationId?: string;
  perCategory?: number;
  categories?: string[];
}

/** One answer that may go on a sheet: an evaluation item and the model whose answer is shown. */
interface Candidate {
  item: EvaluationItemRecord;
  source: ModelRole;
}

const ROLES: readonly ModelRole[] = ['student', 'teacher', 'base'];

/**
 * A category's candidates, in the order they are taken. Unblind: each question once, with the
 * student's answer. Blind: every question's first source (the three models in turn), then
 * each question's second source, then its third; so a question appears twice (with another
 * model's answer) only when the category has fewer questions than the sheet needs.
 */
function candidates(pool: readonly EvaluationItemRecord[], blind: boolean, rand: () => number): Candidate[] {
  if (!blind) return pool.map((item) => ({ item, source: 'student' }));
  const offset = Math.floor(rand() * ROLES.length);
  const rounds: Candidate[][] = [[], [], []];
  pool.forEach((item, i) => {
    const reverse = rand() < 0.5;
    const withAnswer = ROLES.map((_, k) => {
      const step = reverse ? -k : k;
      return ROLES[(((offset + i + step) % ROLES.length) + ROLES.length) % ROLES.length] as ModelRole;
    }).filter((role) => (item.answers[role] ?? '').trim() !== '');
    withAnswer.forEach((source, round) => rounds[round]?.push({ item, source }));
  });
  return rounds.flat();
}

/**
 * Picks the answers: REVIEW_CATEGORIES first, the evaluation's largest other categories when
 * one is missing, then fills any gap from the remaining candidates so the sheet reaches 5 x 10
 * when the evaluation has enough. A blind sheet draws on all three models' answers, so a small
 * evaluation (17 held-out questions x 3 models) can still fill it.
 */
export function pickReviewItems(
  items: readonly EvaluationItemRecord[],
  opts: { blind: boolean; seed: number; perCategory?: number; categories?: string[] },
): NewReviewItem[] {
  const rand = mulberry32(opts.seed);
  const per = opts.perCategory ?? REVIEW_PER_CATEGORY;
  const byCat = new Map<string, EvaluationItemRecord[]>();
  for (const it of items) byCat.set(it.category, [...(byCat.get(it.category) ?? []), it]);
  const wanted = opts.categories ?? REVIEW_CATEGORIES;
  const cats = wanted.filter((c) => byCat.has(c));
  const others = [...byCat.keys()]
    .filter((c) => !cats.includes(c))
    .sort((a, b) => (byCat.get(b)?.length ?? 0) - (byCat.get(a)?.length ?? 0));
  while (cats.length < wanted.length && others.length > 0) cats.push(others.shift() as string);
  const total = per * wanted.length;
  const chosen: Candidate[] = [];
  const rest: Candidate[] = [];
  for (const c of [...byCat.keys()].sort()) {
    const pool = candidates(shuffled(byCat.get(c) as EvaluationItemRecord[], rand), opts.blind, rand);
    if (cats.includes(c)) {
      chosen.push(...pool.slice(0, per));
      rest.push(...pool.slice(per));
    } else rest.push(...pool);
  }
  // Gap fillers: unused questions before second answers to questions already on the sheet.
  const used = new Set(chosen.map((c) => c.item));
  const mixed = shuffled(rest, rand);
  const fillers = [...mixed.filter((c) => !used.has(c.item)), ...mixed.filter((c) => used.has(c.item))];
  chosen.push(...fillers.slice(0, Math.max(0, total - chosen.length)));
  // Order: by category, as the spec's sheet; blind sheets are shuffled so sources do not cluster.
  const ordered = opts.blind ? shuffled(chosen, rand) : chosen;
  return ordered.map(({ item, source }) => ({
    category: item.category,
    question: item.question,
    answer: item.answers[source] ?? '',
    source,
  }));
}

function hideSource(item: ReviewItem, sheet: ReviewSheetRecord): ReviewItem {
  return sheet.blind && !sheet.unblinded ? { ...item, source: null } : item;
}

function requireSheet(store: Store, sheetId: string): ReviewSheetRecord {
  const sheet = store.reviews.sheet(sheetId);
  if (!sheet) throw new ReviewError(`Unknown review sheet ${sheetId}`, 'not_found', { sheetId });
  return sheet;
}

/** A run's sheets, newest first, each with how many of its items are fully rated. */
export function listReviewSheets(store: Store, runId: string): ReviewSheetInfo[] {
  return store.reviews.listSheets(runId).map((rec) => {
    const items = store.reviews.items(rec.id);
    return {
      id: rec.id,
      runId: rec.runId,
      blind: rec.blind,
      unblinded: rec.unblinded,
      createdAt: rec.createdAt,
      rated: items.filter(isFullyRated).length,
      total: items.length,
    };
  });
}

export function getReviewSheet(store: Store, sheetId: string): ReviewSheet {
  const sheet = requireSheet(store, sheetId);
  return {
    id: sheet.id,
    runId: sheet.runId,
    blind: sheet.blind && !sheet.unblinded,
    items: store.reviews.items(sheetId).map((it) => hideSource(it, sheet)),
  };
}

export function createReviewSheet(store: Store, opts: CreateSheetOptions): ReviewSheet {
  const evaluation = opts.evaluationId
    ? store.evaluations.get(opts.evaluationId)
    : store.evaluations.latest(opts.runId);
  if (!evaluation || evaluation.items.length === 0) {
    throw new ReviewError(
      `Run ${opts.runId} has no evaluation to review yet; run the evaluate step first`,
      'step_order',
      {
        runId: opts.runId,
      },
    );
  }
  const picked = pickReviewItems(evaluation.items, {
    blind: opts.blind,
    seed: opts.seed ?? Date.now() % 2 ** 31,
    perCategory: opts.perCategory,
    categories: opts.categories,
  });
  const sheet = store.reviews.createSheet({
    runId: opts.runId,
    evaluationId: evaluation.id,
    blind: opts.blind,
    items: picked,
  });
  return getReviewSheet(store, sheet.id);
}

function itemWithSheet(store: Store, itemId: number): { item: ReviewItem; sheet: ReviewSheetRecord } {
  let item: ReviewItem;
  try {
    item = store.reviews.item(itemId);
  } catch {
    throw new ReviewError(`Unknown review item ${itemId}`, 'not_found', { itemId });
  }
  return { item, sheet: requireSheet(store, item.sheetId) };
}

/** Saves one rating (an integer 1-5 on one of the four dimensions) immediately. */
export function rateItem(
  store: Store,
  itemId: number,
  dimension: ReviewDimension,
  value: number,
): ReviewItem {
  if (!(REVIEW_DIMENSIONS as readonly string[]).includes(dimension)) {
    throw new ReviewError(
      `Unknown review dimension "${dimension}"; expected one of ${REVIEW_DIMENSIONS.join(', ')}`,
      'invalid_input',
      {
        dimension,
      },
    );
  }
  if (!Number.isInteger(value) || value < 1 || value > 5) {
    throw new ReviewError(`A rating is a whole number from 1 to 5, not ${value}`, 'invalid_input', { value });
  }
  const { item, sheet } = itemWithSheet(store, itemId);
  const updated = store.reviews.updateItem(itemId, { ratings: { ...item.ratings, [dimension]: value } });
  return hideSource(updated, sheet);
}

export function noteItem(store: Store, itemId: number, note: string): ReviewItem {
  if (note.length > MAX_NOTE_CHARS) {
    throw new ReviewError(`A note is at most ${MAX_NOTE_CHARS} characters`, 'invalid_input', {
      length: note.length,
    });
  }
  const { sheet } = itemWithSheet(store, itemId);
  return hideSource(store.reviews.updateItem(itemId, { note }), sheet);
}

export function isFullyRated(item: ReviewItem): boolean {
  return REVIEW_DIMENSIONS.every((d) => typeof item.ratings[d] === 'number');
}

/** Every dimension rated and >= 4. */
export function itemPasses(item: ReviewItem): boolean {
  return REVIEW_DIMENSIONS.every((d) => (item.ratings[d] ?? 0) >= 4);
}

/**
 * Means per dimension over the ratings given; pass rates per source over all of that source's
 * items (an unrated item does not pass). With unblind: true a blind sheet is revealed for good.
 * meetsTarget: the student's pass rate reaches the target; null while the sheet hides its sources
 * (the rate is unknown then, so the summary must not say "below the target").
 */
export function reviewSummary(
  store: Store,
  sheetId: string,
  opts: { unblind?: boolean } = {},
): ReviewSummary {
  let sheet = requireSheet(store, sheetId);
  if (opts.unblind && sheet.blind && !sheet.unblinded) {
    store.reviews.setUnblinded(sheetId);
    sheet = requireSheet(store, sheetId);
  }
  const items = store.reviews.items(sheetId);
  const meanByDimension = {} as Record<ReviewDimension, number | null>;
  for (const d of REVIEW_DIMENSIONS) {
    const vals = items.map((i) => i.ratings[d]).filter((v): v is number => typeof v === 'number');
    meanByDimension[d] = vals.length
      ? Math.round((vals.reduce((a, b) => a + b, 0) / vals.length) * 1000) / 1000
      : null;
  }
  const revealed = !sheet.blind || sheet.unblinded;
  const passRateBySource: Partial<Record<ModelRole, number>> = {};
  if (revealed) {
    for (const role of ['student', 'teacher', 'base'] as const) {
      const mine = items.filter((i) => i.source === role);
      if (mine.length) passRateBySource[role] = mine.filter(itemPasses).length / mine.length;
    }
  }
  return {
    sheetId,
    rated: items.filter(isFullyRated).length,
    total: items.length,
    meanByDimension,
    passRateBySource,
    target: REVIEW_TARGET,
    meetsTarget: revealed ? (passRateBySource.student ?? 0) >= REVIEW_TARGET : null,
  };
}

/** manual_review.txt: the sheet with rating scales, ratings given so far and notes. */
export function manualReviewText(sheet: ReviewSheet, summary: ReviewSummary): string {
  const lines: string[] = [
    'MANUAL REVIEW - character consistency of 50 responses',
    `Sheet ${sheet.id} (run ${sheet.runId})${sheet.blind ? ' - BLIND: sources hidden' : ''}`,
    'Rate each dimension 1 (poor) to 5 (excellent). An item passes when every dimension is >= 4.',
    `Target: ${Math.round(summary.target * 100)}% of the student's responses pass.`,
    '',
  ];
  for (const it of sheet.items) {
    lines.push('='.repeat(72));
    lines.push(`#${it.position + 1}  [${it.category}]${it.source ? `  source: ${it.source}` : ''}`);
    lines.push(`Q: ${it.question}`);
    lines.push(`A: ${it.answer}`);
    for (const d of REVIEW_DIMENSIONS) {
      const v = it.ratings[d];
      lines.push(
        `  ${REVIEW_DIMENSION_LABELS[d].padEnd(24)} ${v === undefined ? '[ ] 1  2  3  4  5' : `${v}/5`}`,
      );
    }
    lines.push(`  Notes: ${it.note || '_'.repeat(40)}`);
    lines.push('');
  }
  lines.push('='.repeat(72));
  lines.push(`Rated: ${summary.rated}/${summary.total}`);
  for (const d of REVIEW_DIMENSIONS) {
    const m = summary.meanByDimension[d];
    lines.push(`Mean ${REVIEW_DIMENSION_LABELS[d]}: ${m === null ? 'not rated' : m.toFixed(2)}`);
  }
  const student = summary.passRateBySource.student;
  lines.push(
    student === undefined
      ? 'Student pass rate: hidden until the sheet is un-blinded'
      : `Student pass rate: ${(student * 100).toFixed(1)}% (${summary.meetsTarget ? 'meets' : 'below'} the ${Math.round(summary.target * 100)}% target)`,
  );
  return `${lines.join('\n')}\n`;
}

/**
 * manual_review.csv/.txt, unless they hold another sheet's export: then manual_review_<sheet>.csv/.txt,
 * so exporting a second sheet of a run never silently replaces the first one's ratings.
 */
export function reviewExportPaths(dir: string, sheetId: string): { csvPath: string; txtPath: string } {
  const plain = { csvPath: join(dir, 'manual_review.csv'), txtPath: join(dir, 'manual_review.txt') };
  if (!existsSync(plain.txtPath)) return plain;
  const header = readFileSync(plain.txtPath, 'utf8').split('\n', 3)[1] ?? '';
  if (header.startsWith(`Sheet ${sheetId} `)) return plain;
  return {
    csvPath: join(dir, `manual_review_${sheetId}.csv`),
    txtPath: join(dir, `manual_review_${sheetId}.txt`),
  };
}

/** Writes the sheet's CSV and text into `dir` (see reviewExportPaths). Sources appear only once revealed. */
export function exportReview(
  store: Store,
  sheetId: string,
  dir: string,
): { csvPath: string; txtPath: string } {
  const sheet = getReviewSheet(store, sheetId);
  const summary = reviewSummary(store, sheetId);
  mkdirSync(dir, { recursive: true });
  const { csvPath, txtPath } = reviewExportPaths(dir, sheetId);
  writeFileSync(
    csvPath,
    toCsv(
      ['position', 'category', 'question', 'answer', 'source', ...REVIEW_DIMENSIONS, 'pass', 'note'],
      sheet.items.map((it) => [
        it.position + 1,
        it.category,
        it.question,
        it.answer,
        it.source ?? 'hidden',
        ...REVIEW_DIMENSIONS.map((d) => it.ratings[d] ?? null),
        isFullyRated(it) ? itemPasses(it) : null,
        it.note,
      ]),
    ),
  );
  writeFileSync(txtPath, manualReviewText(sheet, summary));
  return { csvPath, txtPath };
}
