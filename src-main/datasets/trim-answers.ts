/**
 * Answers that end. A teacher answer cut off at the length limit teaches the student to stop
 * mid-sentence, or never: it is trimmed to its last full sentence, and its top-k file (kd's
 * target) is cut to the same tokens with the stop token appended as a one-hot row (the engine's
 * topk_trim), so the student learns where an answer ends. An answer with no full sentence long
 * enough, or whose cut does not fall on a token boundary, is left as it was (the audit still
 * flags it truncated).
 */
import type { EngineMethods } from '../../src-shared/engine-protocol';

/** Fewer words than this before the last sentence end: not worth keeping as a trimmed answer. */
export const MIN_TRIMMED_WORDS = 5;

/** Words whose trailing period is an abbreviation, not a sentence end ("Op. 125", "St. Stephen"). */
const ABBREVIATIONS = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'st',
  'op',
  'no',
  'nr',
  'vs',
  'etc',
  'e.g',
  'i.e',
  'cf',
  'vol',
]);

/**
 * The text up to and including its last sentence end (. ! ? … and any closing quotes or
 * brackets after it, followed by whitespace or the end), or null when it has none after at least
 * MIN_TRIMMED_WORDS words.
 */
export function lastFullSentence(text: string): string | null {
  const body = text.trimEnd();
  const ends = /[.!?…]+["'”’)\]]*(?=\s|$)/g;
  let cut = -1;
  for (let m = ends.exec(body); m !== null; m = ends.exec(body)) {
    const before = /([\p{L}.]+)$/u.exec(body.slice(0, m.index))?.[1] ?? '';
    const isAbbreviation =
      m[0].startsWith('.') && m[0].length === 1 && ABBREVIATIONS.has(before.toLowerCase());
    const isInitial = m[0] === '.' && /^\p{Lu}$/u.test(before);
    if (!isAbbreviation && !isInitial) cut = m.index + m[0].length;
  }
  if (cut < 0) return null;
  const kept = body.slice(0, cut).trim();
  return kept.split(/\s+/).length >= MIN_TRIMMED_WORDS ? kept : null;
}

/** One chosen teacher answer, as the generate step holds it before storing. */
export interface AnswerToTrim {
  text: string;
  finishReason: 'stop' | 'length' | null;
  completionTokens: number | null;
  /** Its top-k file, when distributions were captured. */
  topkPath: string | null;
  /** Held-out answers are the teacher's reference figures: never trimmed. */
  heldout: boolean;
}

export interface TrimCounts {
  /** Training answers cut off at the length limit. */
  cutOff: number;
  /** Of those, trimmed to their last full sentence (file and text). */
  trimmed: number;
  /** Left as they were: no full sentence, or the cut inside a token. */
  leftCutOff: number;
}

export function emptyTrimCounts(): TrimCounts {
  return { cutOff: 0, trimmed: 0, leftCutOff: 0 };
}

/** The engine's topk_trim, or a stand-in in tests. */
export type TopkTrimmer = (
  files: EngineMethods['topk_trim']['params']['files'],
) => Promise<EngineMethods['topk_trim']['result']['files']>;

/**
 * Each training answer cut off at the length limit, trimmed to its last full sentence: a new list (the
 * others as they were), completion tokens the rows kept (the stop token included) where a file
 * was cut, and the counts added to `counts`.
 */
export async function trimCutOffAnswers<T extends AnswerToTrim>(
  answers: readonly T[],
  trimFiles: TopkTrimmer,
  counts: TrimCounts,
): Promise<T[]> {
  const out = [...answers];
  const withFile: { index: number; path: string; text: string }[] = [];
  answers.forEach((a, index) => {
    if (a.finishReason !== 'length' || a.heldout) return;
    counts.cutOff += 1;
    const text = lastFullSentence(a.text);
    if (text === null) {
      counts.leftCutOff += 1;
      return;
    }
    if (a.topkPath === null) {
      out[index] = { ...a, text, finishReason: 'stop' };
      counts.trimmed += 1;
      return;
    }
    withFile.push({ index, path: a.topkPath, text });
  });
  const results = await trimFiles(withFile.map(({ path, text }) => ({ path, text })));
  withFile.forEach(({ index, text }, i) => {
    const r = results[i];
    if (!r?.trimmed) {
      counts.leftCutOff += 1;
      return;
    }
    out[index] = { ...(answers[index] as T), text, finishReason: 'stop', completionTokens: r.rows };
    counts.trimmed += 1;
  });
  return out;
}
