/**
 * The pairwise A/B review: the student's and the teacher's answers to one held-out question side
 * by side, sources hidden until the sheet is un-blinded, the better one picked. Types only.
 */
import type { Interval, ModelRole } from './contract-records';

/** A pairwise judgement: the answer shown as A, the one shown as B, or neither better. */
export const PAIRWISE_CHOICES = ['a', 'b', 'tie'] as const;
export type PairwiseChoice = (typeof PAIRWISE_CHOICES)[number];

/**
 * One held-out question with two answers side by side (the student's and the teacher's, which
 * one is A drawn per pair from the sheet's seed). sourceA/sourceB are null on screen until the
 * sheet is un-blinded.
 */
export interface PairwiseItem {
  id: number;
  sheetId: string;
  position: number;
  category: string;
  question: string;
  answerA: string;
  answerB: string;
  sourceA: ModelRole | null;
  sourceB: ModelRole | null;
  choice: PairwiseChoice | null;
}

export interface PairwiseSheet {
  id: string;
  runId: string;
  /** True until un-blinded: the sources are hidden then. */
  blind: boolean;
  items: PairwiseItem[];
}

export interface PairwiseSheetInfo {
  id: string;
  runId: string;
  unblinded: boolean;
  createdAt: string;
  judged: number;
  total: number;
}

export interface PairwiseSummary {
  sheetId: string;
  judged: number;
  total: number;
  /** Picks by side on screen (known while blind): a reviewer who always picks A shows here. */
  picks: Record<PairwiseChoice, number>;
  /**
   * Once un-blinded: the student's wins, losses and ties against the other model over the judged
   * pairs, and its preference share = (wins + ties / 2) / judged with a 95% percentile bootstrap
   * interval over the pairs (2000 resamples, seeded; as the evaluation's intervals). 0.5: the
   * reviewer could not prefer one over the other. Null while blind or before any pair is judged.
   */
  student: {
    against: ModelRole;
    wins: number;
    losses: number;
    ties: number;
    share: number;
    interval: Interval;
  } | null;
}
