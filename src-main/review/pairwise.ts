/**
 * Pairwise A/B review: for held-out questions of an evaluated run, the student's answer and the
 * teacher's side by side, which one is A drawn per pair from the sheet's seed; the reviewer picks
 * the better one or calls a tie. The sources stay hidden until the sheet is un-blinded; then the
 * summary gives the student's preference share, ties counted as half a win, with a 95% interval
 * by the same seeded percentile bootstrap the evaluation uses (evaluation/intervals.ts).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  PAIRWISE_CHOICES,
  type Interval,
  type ModelRole,
  type PairwiseChoice,
  type PairwiseItem,
  type PairwiseSheet,
  type PairwiseSheetInfo,
  type PairwiseSummary,
} from '../../src-shared/contract';
import { parseCsv, toCsv } from '../datasets/csv';
import { bootstrap } from '../evaluation/intervals';
import { mulberry32, shuffled } from '../questions/prng';
import type { EvaluationItemRecord, NewPairwiseItem, PairwiseSheetRecord, Store } from '../store';
import { ReviewError } from './errors';

/** As many pairs as the rating sheet has responses, so one sitting covers either. */
export const PAIRWISE_DEFAULT_PAIRS = 50;
/** The model the student is judged against: the teacher WITH the constitution, the student's target. */
export const PAIRWISE_OPPONENT: ModelRole = 'teacher';
export const PAIRWISE_MAX_PAIRS = 1000;

/** The student's score in one judged pair: 1 preferred, 0.5 tie, 0 the other answer preferred. */
export function studentScore(item: Pick<PairwiseItem, 'choice' | 'sourceA' | 'sourceB'>): number | null {
  if (item.choice === null) return null;
  if (item.choice === 'tie') return 0.5;
  const picked = item.choice === 'a' ? item.sourceA : item.sourceB;
  return picked === 'student' ? 1 : 0;
}

/**
 * The student's preference share over judged pairs: (wins + ties / 2) / judged, with its 95%
 * percentile-bootstrap interval over the pairs. Null when nothing is judged.
 */
export function preferenceShare(scores: readonly number[]): { share: number; interval: Interval } | null {
  if (scores.length === 0) return null;
  const mean = (ix: readonly number[]): number =>
    ix.reduce((a, i) => a + (scores[i] as number), 0) / ix.length;
  return { share: mean(scores.map((_, i) => i)), interval: bootstrap(scores.length, mean) };
}

/**
 * The pairs of a sheet: questions with a non-empty student and teacher answer, in a seeded
 * shuffle (so categories mix), at most `pairs`; for each, a coin from the same seed decides
 * whether the student's answer is A or B.
 */
export function pickPairs(
  items: readonly EvaluationItemRecord[],
  opts: { seed: number; pairs?: number; against?: ModelRole },
): NewPairwiseItem[] {
  const against = opts.against ?? PAIRWISE_OPPONENT;
  const rand = mulberry32(opts.seed);
  const usable = items.filter(
    (it) => (it.answers.student ?? '').trim() !== '' && (it.answers[against] ?? '').trim() !== '',
  );
  return shuffled(usable, rand)
    .slice(0, opts.pairs ?? PAIRWISE_DEFAULT_PAIRS)
    .map((it) => {
      const studentFirst = rand() < 0.5;
      const [sourceA, sourceB]: [ModelRole, ModelRole] = studentFirst
        ? ['student', against]
        : [against, 'student'];
      return {
        questionId: it.questionId,
        category: it.category,
        question: it.question,
        answerA: it.answers[sourceA],
        answerB: it.answers[sourceB],
        sourceA,
        sourceB,
      };
    });
}

function requireSheet(store: Store, sheetId: string): PairwiseSheetRecord {
  const sheet = store.pairwise.sheet(sheetId);
  if (!sheet) throw new ReviewError(`Unknown pairwise sheet ${sheetId}`, 'not_found', { sheetId });
  return sheet;
}

function hideSources(item: PairwiseItem, sheet: PairwiseSheetRecord): PairwiseItem {
  return sheet.unblinded ? item : { ...item, sourceA: null, sourceB: null };
}

export function getPairwiseSheet(store: Store, sheetId: string): PairwiseSheet {
  const sheet = requireSheet(store, sheetId);
  return {
    id: sheet.id,
    runId: sheet.runId,
    blind: !sheet.unblinded,
    items: store.pairwise.items(sheetId).map((it) => hideSources(it, sheet)),
  };
}

export function listPairwiseSheets(store: Store, runId: string): PairwiseSheetInfo[] {
  return store.pairwise.listSheets(runId).map((rec) => ({
    id: rec.id,
    runId: rec.runId,
    unblinded: rec.unblinded,
    createdAt: rec.createdAt,
    ...store.pairwise.counts(rec.id),
  }));
}

export interface CreatePairwiseOptions {
  runId: string;
  seed?: number;
  pairs?: number;
  /** Defaults to the run's latest evaluation. */
  evaluationId?: string;
}

export function createPairwiseSheet(store: Store, opts: CreatePairwiseOptions): PairwiseSheet {
  const pairs = opts.pairs ?? PAIRWISE_DEFAULT_PAIRS;
  if (!Number.isInteger(pairs) || pairs < 1 || pairs > PAIRWISE_MAX_PAIRS) {
    throw new ReviewError(
      `A pairwise sheet holds 1 to ${PAIRWISE_MAX_PAIRS} pairs, not ${pairs}`,
      'invalid_input',
      {
        pairs,
      },
    );
  }
  const evaluation = opts.evaluationId
    ? store.evaluations.get(opts.evaluationId)
    : store.evaluations.latest(opts.runId);
  if (!evaluation || evaluation.items.length === 0) {
    throw new ReviewError(
      `Run ${opts.runId} has no evaluation to compare yet; run the evaluate step first`,
      'step_order',
      { runId: opts.runId },
    );
  }
  const seed = opts.seed ?? Date.now() % 2 ** 31;
  const items = pickPairs(evaluation.items, { seed, pairs });
  if (items.length === 0) {
    throw new ReviewError(
      `Run ${opts.runId}'s evaluation has no question with both a student and a ${PAIRWISE_OPPONENT} answer`,
      'step_order',
      { runId: opts.runId },
    );
  }
  const sheet = store.pairwise.createSheet({ runId: opts.runId, evaluationId: evaluation.id, seed, items });
  return getPairwiseSheet(store, sheet.id);
}

/** Saves one judgement at once (null clears it). */
export function choosePair(store: Store, itemId: number, choice: PairwiseChoice | null): PairwiseItem {
  if (choice !== null && !(PAIRWISE_CHOICES as readonly string[]).includes(choice)) {
    throw new ReviewError(
      `A pairwise choice is one of ${PAIRWISE_CHOICES.join(', ')}, not "${String(choice)}"`,
      'invalid_input',
      { choice },
    );
  }
  let item: PairwiseItem;
  try {
    item = store.pairwise.item(itemId);
  } catch {
    throw new ReviewError(`Unknown pairwise item ${itemId}`, 'not_found', { itemId });
  }
  const sheet = requireSheet(store, item.sheetId);
  return hideSources(store.pairwise.setChoice(itemId, choice), sheet);
}

/**
 * Picks by side (always), and once un-blinded the student's wins, losses, ties and preference
 * share with its interval. With unblind: true the sheet is revealed for good.
 */
export function pairwiseSummary(
  store: Store,
  sheetId: string,
  opts: { unblind?: boolean } = {},
): PairwiseSummary {
  let sheet = requireSheet(store, sheetId);
  if (opts.unblind && !sheet.unblinded) {
    store.pairwise.setUnblinded(sheetId);
    sheet = requireSheet(store, sheetId);
  }
  const items = store.pairwise.items(sheetId);
  const judged = items.filter((it) => it.choice !== null);
  const picks: Record<PairwiseChoice, number> = { a: 0, b: 0, tie: 0 };
  for (const it of judged) picks[it.choice as PairwiseChoice] += 1;
  let student: PairwiseSummary['student'] = null;
  const scores = judged.map(studentScore).filter((s): s is number => s !== null);
  const pref = sheet.unblinded ? preferenceShare(scores) : null;
  if (pref) {
    const first = items[0];
    student = {
      against: (first?.sourceA === 'student' ? first.sourceB : first?.sourceA) ?? PAIRWISE_OPPONENT,
      wins: scores.filter((s) => s === 1).length,
      losses: scores.filter((s) => s === 0).length,
      ties: scores.filter((s) => s === 0.5).length,
      ...pref,
    };
  }
  return { sheetId, judged: judged.length, total: items.length, picks, student };
}

/**
 * pairwise_review.csv, unless it holds another sheet's pairs: then pairwise_review_<sheet>.csv,
 * so a second sheet never silently replaces the first one's judgements (as manual_review.csv).
 */
export function pairwiseExportPath(dir: string, sheetId: string): string {
  const plain = join(dir, 'pairwise_review.csv');
  if (!existsSync(plain)) return plain;
  const rows = parseCsv(readFileSync(plain, 'utf8'));
  const sheetCol = rows[0]?.indexOf('sheet') ?? -1;
  const holder = sheetCol >= 0 ? rows[1]?.[sheetCol] : undefined;
  return holder === undefined || holder === sheetId ? plain : join(dir, `pairwise_review_${sheetId}.csv`);
}

/** Writes the sheet's pairs and judgements as CSV into `dir`; sources and the preferred model only once revealed. */
export function exportPairwise(store: Store, sheetId: string, dir: string): { csvPath: string } {
  const sheet = getPairwiseSheet(store, sheetId);
  mkdirSync(dir, { recursive: true });
  const csvPath = pairwiseExportPath(dir, sheetId);
  writeFileSync(
    csvPath,
    toCsv(
      [
        'sheet',
        'position',
        'category',
        'question',
        'answer_a',
        'answer_b',
        'source_a',
        'source_b',
        'choice',
        'preferred',
        'student_score',
      ],
      sheet.items.map((it) => {
        const score = it.sourceA === null ? null : studentScore(it);
        const preferred =
          it.choice === null
            ? null
            : it.choice === 'tie'
              ? 'tie'
              : ((it.choice === 'a' ? it.sourceA : it.sourceB) ?? 'hidden');
        return [
          sheet.id,
          it.position + 1,
          it.category,
          it.question,
          it.answerA,
          it.answerB,
          it.sourceA ?? 'hidden',
          it.sourceB ?? 'hidden',
          it.choice,
          preferred,
          score,
        ];
      }),
    ),
  );
  return { csvPath };
}
