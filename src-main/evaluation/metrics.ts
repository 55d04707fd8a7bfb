/**
 * Evaluation metrics: plain functions over answers and numbers, no I/O. The orchestrator
 * (evaluate.ts) gathers answers from the engine and calls these.
 *
 * This module is the one import point: it also re-exports the difflib port, Elo, the pairwise
 * judge helpers and the promotion gate, which live in their own files.
 */
import { InputError } from '../core/errors';

export { SequenceMatcher, difflibRatio, type MatchBlock } from './difflib';
export { eloRatings, type EloOptions, type PairwiseJudgement } from './elo';
export {
  buildPairwiseJudgePrompt,
  parseJudgeVerdict,
  reconcileSwappedVerdicts,
  verdictToJudgement,
  type JudgePromptInput,
  type JudgeVerdict,
} from './judge';
export { promotionGate, type PromotionGateInput, type PromotionGateResult } from './gate';

/** A metric was given inputs it cannot use (mismatched vector lengths, a bad regex). */
export class MetricInputError extends InputError {}

// ---------------------------------------------------------------- statistics

/** Arithmetic mean; NaN for an empty list. */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

/** Median (mean of the two middle values for an even count); NaN for an empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((p, q) => p - q);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * Standard deviation. Population (divide by n, numpy's default and Python's statistics.pstdev)
 * unless `sample` is set (divide by n - 1, statistics.stdev). NaN when undefined.
 */
export function std(xs: readonly number[], sample = false): number {
  const n = xs.length;
  if (n === 0 || (sample && n < 2)) return NaN;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / (sample ? n - 1 : n));
}

export interface Summary {
  n: number;
  mean: number;
  median: number;
  /** Population standard deviation. */
  std: number;
  min: number;
  max: number;
}

/** n, mean, median, population std, min, max; every statistic is NaN for an empty list. */
export function summarize(xs: readonly number[]): Summary {
  return {
    n: xs.length,
    mean: mean(xs),
    median: median(xs),
    std: std(xs),
    min: xs.length ? Math.min(...xs) : NaN,
    max: xs.length ? Math.max(...xs) : NaN,
  };
}

// ---------------------------------------------------------------- vectors

/** Cosine similarity of two equal-length vectors; 0 when either has zero norm. */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) {
    throw new MetricInputError(
      `cosine similarity of vectors of different lengths (${a.length} vs ${b.length})`,
      {
        lengthA: a.length,
        lengthB: b.length,
      },
    );
  }
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (na === 0 || nb === 0) return 0;
  return dot / (Math.sqrt(na) * Math.sqrt(nb));
}

// ---------------------------------------------------------------- keywords

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A case-insensitive whole-word pattern for a keyword: "Vienna" does not match "Viennas"'s
 * prefix inside another word, and spaces inside a keyword match any run of whitespace.
 */
function keywordPattern(keyword: string): RegExp {
  const body = keyword.trim().split(/\s+/).map(escapeRegExp).join('\\s+');
  return new RegExp(`(?<![\\p{L}\\p{N}_])${body}(?![\\p{L}\\p{N}_])`, 'iu');
}

export interface KeywordHits {
  /** The keywords found in the text, in the order given. */
  hits: string[];
  present: boolean;
  /** hits / keywords (0 when there are no keywords). */
  share: number;
}

/** Which of the persona's keywords appear in one text (case-insensitive, whole words). */
export function keywordHits(text: string, keywords: readonly string[]): KeywordHits {
  const usable = keywords.filter((k) => k.trim().length > 0);
  const hits = usable.filter((k) => keywordPattern(k).test(text));
  return { hits, present: hits.length > 0, share: usable.length ? hits.length / usable.length : 0 };
}

/** Share of texts that contain at least one keyword (0..1); NaN for no texts. */
export function keywordPresence(texts: readonly string[], keywords: readonly string[]): number {
  if (texts.length === 0) return NaN;
  const patterns = keywords.filter((k) => k.trim().length > 0).map(keywordPattern);
  let present = 0;
  for (const t of texts) if (patterns.some((p) => p.test(t))) present += 1;
  return present / texts.length;
}

// Capability and safety scoring of answers lives with their data sets: questions/eval-sets.ts.
