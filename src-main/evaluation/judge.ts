/**
 * Pairwise LLM judge: a prompt that asks which of two answers better stays in character, and a
 * parser for the judge's verdict that tolerates the extra text judges like to write.
 *
 * Judges favour whichever answer comes first, so each pair should be judged twice with A and B
 * swapped; reconcileSwappedVerdicts() keeps a verdict only when both orders agree.
 */
import type { ChatMessage } from '../../src-shared/engine-protocol';
import type { PairwiseJudgement } from './elo';

export type JudgeVerdict = 'A' | 'B' | 'tie';

export interface JudgePromptInput {
  question: string;
  answerA: string;
  answerB: string;
  /** The character's name, e.g. "Ludwig van Beethoven". */
  character: string;
  /** The constitution or a summary of it; what "in character" means for this judge. */
  constitution?: string;
  /** What to weigh, in a sentence; a default about character fidelity is used otherwise. */
  criteria?: string;
}

const DEFAULT_CRITERIA =
  'Judge which answer better stays in character: voice, personality, values, knowledge the character would plausibly have, and speech patterns. Helpfulness matters only as the character would be helpful. Ignore length unless it harms the character.';

/** System + user messages for one pairwise comparison. The judge must end with "Verdict: A|B|tie". */
export function buildPairwiseJudgePrompt(input: JudgePromptInput): ChatMessage[] {
  const system = [
    `You are an impartial judge comparing two answers written as ${input.character}.`,
    input.criteria ?? DEFAULT_CRITERIA,
    'The order of the answers is random; do not favour the first one.',
    'Explain briefly, then end with one final line exactly of the form "Verdict: A", "Verdict: B" or "Verdict: tie".',
  ].join('\n');
  const parts = [];
  if (input.constitution) parts.push(`[Character description]\n${input.constitution.trim()}`);
  parts.push(`[Question]\n${input.question.trim()}`);
  parts.push(`[Answer A]\n${input.answerA.trim()}`);
  parts.push(`[Answer B]\n${input.answerB.trim()}`);
  parts.push('Which answer is more in character? End with "Verdict: A", "Verdict: B" or "Verdict: tie".');
  return [
    { role: 'system', content: system },
    { role: 'user', content: parts.join('\n\n') },
  ];
}

function normaliseToken(t: string): JudgeVerdict {
  const s = t.toLowerCase();
  if (s === 'a') return 'A';
  if (s === 'b') return 'B';
  return 'tie';
}

function lastMatch(text: string, re: RegExp): string | null {
  let found: string | null = null;
  for (const m of text.matchAll(re)) found = m[1] ?? null;
  return found;
}

/** The single verdict among several mentions, or null when they disagree. */
function agreeing(found: JudgeVerdict[]): JudgeVerdict | null {
  if (found.length === 0) return null;
  return found.every((v) => v === found[0]) ? (found[0] as JudgeVerdict) : null;
}

/**
 * The verdict in a judge's reply, or null when it cannot be told. In order of trust:
 *  1. the last "Verdict: X" (markdown, quotes, brackets, "is" tolerated; "a tie" is a tie);
 *  2. the last MT-Bench style [[A]] / [[B]] / [[C]] (C = tie) / [[tie]];
 *  3. a reply that is nothing but the verdict ("B", "Answer A.", "**tie**");
 *  4. "Answer A is better" / "I prefer B" style phrases, if they all agree;
 *  5. an explicit statement of a tie ("both are equally good", "neither is better").
 */
export function parseJudgeVerdict(text: string): JudgeVerdict | null {
  const t = text.replace(/\r/g, '');
  const v1 = lastMatch(
    t,
    /\bverdict\b\s*(?:is)?\s*[:=\-–—]?\s*[*_"'`([{]*\s*(?:(?:answer|response)\s+)?(?:an?\s+(?=tie|draw))?(tie|draw|equal|a|b)\b/gi,
  );
  if (v1) return normaliseToken(v1);
  const v2 = lastMatch(t, /\[\[\s*(a|b|c|tie)\s*\]\]/gi);
  if (v2) return v2.toLowerCase() === 'c' ? 'tie' : normaliseToken(v2);
  const bare = t
    .trim()
    .replace(/^[\s*_"'`([{]+|[\s*_"'`)\]}.!]+$/g, '')
    .replace(/^(?:answer|response|option)\s+/i, '');
  if (/^(a|b|tie|draw)$/i.test(bare)) return normaliseToken(bare);
  const phrases: JudgeVerdict[] = [];
  for (const m of t.matchAll(
    /\b(?:answer|response|option)\s+(a|b)\b\s+(?:is|was)\s+(?:clearly\s+|much\s+|slightly\s+)?(?:better|stronger|preferable|superior|more in character|more authentic)/gi,
  )) {
    phrases.push(normaliseToken(m[1] as string));
  }
  for (const m of t.matchAll(/\bi\s+(?:would\s+)?prefer\s+(?:answer\s+|response\s+|option\s+)?(a|b)\b/gi)) {
    phrases.push(normaliseToken(m[1] as string));
  }
  const byPhrase = agreeing(phrases);
  if (byPhrase) return byPhrase;
  if (phrases.length > 0) return null;
  if (
    /\b(?:it'?s\s+a\s+tie|equally\s+(?:good|in character|strong)|neither\s+(?:answer\s+)?is\s+better)\b/i.test(
      t,
    )
  ) {
    return 'tie';
  }
  return null;
}

/**
 * Combine the verdict on (A=x, B=y) with the verdict on the swapped order (A=y, B=x), expressed in
 * the FIRST order: agreement keeps the verdict, disagreement (position bias) becomes a tie, and
 * one missing verdict yields the other.
 */
export function reconcileSwappedVerdicts(
  first: JudgeVerdict | null,
  swapped: JudgeVerdict | null,
): JudgeVerdict | null {
  const unswapped: JudgeVerdict | null = swapped === 'A' ? 'B' : swapped === 'B' ? 'A' : swapped;
  if (first === null) return unswapped;
  if (unswapped === null) return first;
  return first === unswapped ? first : 'tie';
}

/** A verdict on (A=a, B=b) as a judgement for eloRatings(); null when there was no verdict. */
export function verdictToJudgement(
  a: string,
  b: string,
  verdict: JudgeVerdict | null,
): PairwiseJudgement | null {
  if (verdict === null) return null;
  return { a, b, winner: verdict === 'A' ? 'a' : verdict === 'B' ? 'b' : 'tie' };
}
