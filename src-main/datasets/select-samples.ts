/**
 * The teacher at its best: several sampled answers per training question, and the one that
 * holds the character is kept. The constitution's markers choose (datasets/markers.ts: names
 * the character or its life and work, never calls itself an AI), then an answer that ended on
 * its own over one cut off at the length limit, then one that does not loop. The 135M teacher
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
}

/** Loops at or above this share of repeated 3-gram words lose to any answer below it (the audit's threshold). */
const LOOP_SHARE = 0.3;

export function candidateScore(c: Candidate, markers: PersonaMarkers): number {
  const m = markerScore(c.text, markers);
  const looped = repetitionShare(c.text) >= LOOP_SHARE;
  return (m.held ? 8 : 0) + (m.claimsAi ? 0 : 4) + (c.finishReason === 'stop' ? 2 : 0) + (looped ? 0 : 1);
}

/** The best candidate (the first among equals, so a run is reproducible). */
export function chooseSample(candidates: readonly Candidate[], markers: PersonaMarkers): Choice {
  if (candidates.length === 0) throw new RangeError('chooseSample needs at least one candidate');
  let best = 0;
  let bestScore = -1;
  candidates.forEach((c, i) => {
    const s = candidateScore(c, markers);
    if (s > bestScore) {
      best = i;
      bestScore = s;
    }
  });
  const chosen = candidates[best] as Candidate;
  return { index: best, held: markerScore(chosen.text, markers).held, ended: chosen.finishReason === 'stop' };
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
  };
}

export function countSelection(
  counts: SelectionCounts,
  candidates: readonly Candidate[],
  choice: Choice,
  markers: PersonaMarkers,
): void {
  counts.questions += 1;
  counts.candidates += candidates.length;
  for (const c of candidates) {
    if (markerScore(c.text, markers).held) counts.candidatesHeld += 1;
    if (c.finishReason === 'stop') counts.candidatesEnded += 1;
  }
  if (choice.held) counts.chosenHeld += 1;
  if (choice.ended) counts.chosenEnded += 1;
}
