/**
 * The teacher at its best: several sampled answers per training question, and the one that
 * holds the character is kept. The constitution's markers choose (datasets/markers.ts: names
 * the character or its life and work, never calls itself an AI), then, for a question about who
 * it is or a push to break it, one that names the character itself, then an answer that ended on its own over one cut
 * off at the length limit, then one that does not loop. The 135M teacher
 * is in character only about three times in four; taking every sample as it comes teaches the
 * student the misses too. Held-out questions keep their single, unselected answer (the
 * teacher's own figures must not be flattered by selection).
 */
import { markerScore, type PersonaMarkers } from './markers';
import { repetitionShare } from './audit';

export interface Candidate {
  text: string;
  finishReason: 'stop' | 'length' | null;
}

export interface Choice {
  index: number;
  held: boolean;
  ended: boolean;
  namesSelf: boolean;
}

/** Question categories that ask who the character is: the chosen answer should name it. */
export const IDENTITY_CATEGORIES: readonly string[] = ['identity', 'robustness_identity'];
/** The break-character training prompts' category (pipeline/steps/generate.ts adds them). */
export const BREAK_CATEGORY = 'robustness_break';

/** Categories where the 135M teacher most often misses and a user first looks: more samples. */
export function wantsMoreSamples(category: string): boolean {
  return IDENTITY_CATEGORIES.includes(category) || category === BREAK_CATEGORY;
}

/** Loops at or above this share of repeated 3-gram words lose to any answer below it (the audit's threshold). */
const LOOP_SHARE = 0.3;

export function candidateScore(c: Candidate, markers: PersonaMarkers, wantsName = false): number {
  const m = markerScore(c.text, markers);
  const looped = repetitionShare(c.text) >= LOOP_SHARE;
  return (
    (m.held ? 16 : 0) +
    (m.claimsAi ? 0 : 8) +
    (wantsName && m.namesSelf ? 4 : 0) +
    (c.finishReason === 'stop' ? 2 : 0) +
    (looped ? 0 : 1)
  );
}

/** The best candidate (the first among equals, so a run is reproducible). */
export function chooseSample(
  candidates: readonly Candidate[],
  markers: PersonaMarkers,
  wantsName = false,
): Choice {
  if (candidates.length === 0) throw new RangeError('chooseSample needs at least one candidate');
  let best = 0;
  let bestScore = -1;
  candidates.forEach((c, i) => {
    const s = candidateScore(c, markers, wantsName);
    if (s > bestScore) {
      best = i;
      bestScore = s;
    }
  });
  const chosen = candidates[best] as Candidate;
  const m = markerScore(chosen.text, markers);
  return { index: best, held: m.held, ended: chosen.finishReason === 'stop', namesSelf: m.namesSelf };
}

/** What selection did over a run, for the audit and the report. */
export interface SelectionCounts {
  samplesPerQuestion: number;
  questions: number;
  /** Candidates that held the character / ended on their own, over all samples. */
  candidatesHeld: number;
  candidatesEnded: number;
  candidates: number;
  /** Chosen answers that held / ended. */
  chosenHeld: number;
  chosenEnded: number;
  /** Questions about who the character is, and how many chosen answers to them name it. */
  identityQuestions: number;
  identityNamed: number;
}

export function emptySelectionCounts(samplesPerQuestion: number): SelectionCounts {
  return {
    samplesPerQuestion,
    questions: 0,
    candidatesHeld: 0,
    candidatesEnded: 0,
    candidates: 0,
    chosenHeld: 0,
    chosenEnded: 0,
    identityQuestions: 0,
    identityNamed: 0,
  };
}

export function countSelection(
  counts: SelectionCounts,
  candidates: readonly Candidate[],
  choice: Choice,
  markers: PersonaMarkers,
  identity = false,
): void {
  counts.questions += 1;
  counts.candidates += candidates.length;
  for (const c of candidates) {
    if (markerScore(c.text, markers).held) counts.candidatesHeld += 1;
    if (c.finishReason === 'stop') counts.candidatesEnded += 1;
  }
  if (choice.held) counts.chosenHeld += 1;
  if (choice.ended) counts.chosenEnded += 1;
  if (identity) {
    counts.identityQuestions += 1;
    if (choice.namesSelf) counts.identityNamed += 1;
  }
}
