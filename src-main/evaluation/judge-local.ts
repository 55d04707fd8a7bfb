/**
 * The local judge: any model the engine can load judges pairs of answers, no HTTP endpoint
 * needed. Its verdict is read from its own distribution, not parsed from prose (a small model
 * rarely writes a parseable verdict): d = log p("Verdict: A") − log p("Verdict: B") after the
 * judge prompt. Every pair is judged in both orders and the position bias cancels: the verdict
 * is the sign of (d1 − d2) / 2 (debiasedVerdict in revealed-preferences.ts), a tie within 0.01 nats.
 *
 * The character description goes in the system prompt (one prefix for every comparison,
 * computed once by the engine's kl_metrics); the question and the two answers in the user turn.
 */
import type { ModelRole } from '../../src-shared/contract';
import type { ChatMessage, ModelSpec } from '../../src-shared/engine-protocol';
import type { EngineClient } from '../engine/client';
import { eloRatings, type PairwiseJudgement } from './elo';
import { buildPairwiseJudgePrompt, verdictToJudgement, type JudgeVerdict } from './judge';
import { debiasedVerdict } from './revealed-preferences';

/** One comparison to judge: a question and two players' answers. */
export interface LocalJudgeMatch {
  question: string;
  a: { player: string; answer: string };
  b: { player: string; answer: string };
}

export interface LocalJudge {
  model: ModelSpec;
  adapter?: string;
  character: string;
  constitution?: string;
}

/** The judge's system prompt (with the character description) and one user turn per ordered pair. */
export function localJudgePrompt(
  judge: LocalJudge,
  question: string,
  answerA: string,
  answerB: string,
): { system: string; messages: ChatMessage[] } {
  const [system, user] = buildPairwiseJudgePrompt({
    question,
    answerA,
    answerB,
    character: judge.character,
  });
  const description = judge.constitution ? `\n\n[Character description]\n${judge.constitution.trim()}` : '';
  return {
    system: `${system?.content ?? ''}${description}`,
    messages: [{ role: 'user', content: user?.content ?? '' }],
  };
}

/** Verdicts (in each match's own order, from both orders) from the engine's log-probabilities. */
export async function judgeLocally(
  engine: EngineClient,
  judge: LocalJudge,
  matches: readonly LocalJudgeMatch[],
  signal?: AbortSignal,
): Promise<(JudgeVerdict | null)[]> {
  if (matches.length === 0) return [];
  let system = '';
  const items = matches.flatMap((m) =>
    [
      [m.a.answer, m.b.answer],
      [m.b.answer, m.a.answer],
    ].flatMap(([x, y]) => {
      const p = localJudgePrompt(judge, m.question, x as string, y as string);
      system = p.system;
      return [
        { messages: p.messages, response: 'Verdict: A' },
        { messages: p.messages, response: 'Verdict: B' },
      ];
    }),
  );
  const ref = { model: judge.model, ...(judge.adapter ? { adapter: judge.adapter } : {}) };
  const result = await engine.call(
    'kl_metrics',
    { teacher: { ...ref, system }, students: [ref], items },
    { signal },
  );
  const lp = (i: number): { A: number; B: number } => ({
    A: -(result.items[i]?.teacher_nll ?? NaN),
    B: -(result.items[i + 1]?.teacher_nll ?? NaN),
  });
  return matches.map((_, k) => debiasedVerdict(lp(4 * k), lp(4 * k + 2)));
}

/** Elo over the players of judged matches; players without a readable verdict get NaN. */
export function eloFromVerdicts(
  matches: readonly LocalJudgeMatch[],
  verdicts: readonly (JudgeVerdict | null)[],
  players: readonly string[],
): Record<string, number> {
  const judgements = matches
    .map((m, i) => verdictToJudgement(m.a.player, m.b.player, verdicts[i] ?? null))
    .filter((j): j is PairwiseJudgement => j !== null);
  const elo = eloRatings(judgements, { players });
  const rated = new Set(judgements.flatMap((j) => [j.a, j.b]));
  return Object.fromEntries(players.map((p) => [p, rated.has(p) ? (elo[p] ?? NaN) : NaN]));
}

/** The evaluation's local judge over held-out items: student, teacher and base pairwise. */
export async function runLocalJudge(
  engine: EngineClient,
  judge: LocalJudge,
  items: readonly { questionId: number; question: string; answers: Record<ModelRole, string> }[],
  maxQuestions: number,
  signal?: AbortSignal,
): Promise<{
  comparisons: { questionId: number; a: ModelRole; b: ModelRole; verdict: JudgeVerdict | null }[];
  elo: Record<ModelRole, number>;
}> {
  const pairs: [ModelRole, ModelRole][] = [
    ['student', 'teacher'],
    ['student', 'base'],
    ['teacher', 'base'],
  ];
  const chosen = items.slice(0, maxQuestions);
  const meta = chosen.flatMap((it) => pairs.map(([a, b]) => ({ questionId: it.questionId, a, b })));
  const matches: LocalJudgeMatch[] = chosen.flatMap((it) =>
    pairs.map(([a, b]) => ({
      question: it.question,
      a: { player: a, answer: it.answers[a] },
      b: { player: b, answer: it.answers[b] },
    })),
  );
  const verdicts = await judgeLocally(engine, judge, matches, signal);
  const elo = eloFromVerdicts(matches, verdicts, ['student', 'teacher', 'base']);
  return {
    comparisons: meta.map((m, i) => ({ ...m, verdict: verdicts[i] ?? null })),
    elo: { student: elo.student ?? NaN, teacher: elo.teacher ?? NaN, base: elo.base ?? NaN },
  };
}
