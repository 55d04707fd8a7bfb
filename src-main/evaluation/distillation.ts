/**
 * Phase 6: how close the student is to the teacher, per token, on the teacher's own held-out
 * answers. The engine scores each answer's tokens under the teacher WITH the constitution and
 * under the student and the base WITHOUT it (exact KL over the full vocabulary at every answer
 * token, and each model's NLL); this module turns the per-answer sums into per-token means and
 * captured = 1 − KL_student / KL_base, with 95% intervals from resampling answers (the same
 * answers for every quantity, so the ratio's interval accounts for their correlation).
 */
import type { DistillationMetrics } from '../../src-shared/contract';
import { bootstrap, ratioOfSums } from './intervals';

/** One held-out teacher answer, scored: sums over its tokens (nats). */
export interface ScoredAnswer {
  tokens: number;
  teacherNll: number;
  student: { kl: number; nll: number };
  base: { kl: number; nll: number };
}

function captured(klS: readonly number[], klB: readonly number[], ix: readonly number[]): number {
  let s = 0;
  let b = 0;
  for (const i of ix) {
    s += klS[i] as number;
    b += klB[i] as number;
  }
  return b > 0 ? 1 - s / b : NaN;
}

export function summarizeDistillation(answers: readonly ScoredAnswer[]): DistillationMetrics {
  const tokens = answers.map((a) => a.tokens);
  const klS = answers.map((a) => a.student.kl);
  const klB = answers.map((a) => a.base.kl);
  const all = answers.map((_, i) => i);
  const total = tokens.reduce((a, b) => a + b, 0);
  const perToken = (xs: readonly number[]): number =>
    total > 0 ? xs.reduce((a, b) => a + b, 0) / total : NaN;
  return {
    answers: answers.length,
    tokens: total,
    klStudent: perToken(klS),
    klBase: perToken(klB),
    captured: captured(klS, klB, all),
    nll: {
      teacher: perToken(answers.map((a) => a.teacherNll)),
      student: perToken(answers.map((a) => a.student.nll)),
      base: perToken(answers.map((a) => a.base.nll)),
    },
    intervals: {
      klStudent: bootstrap(answers.length, (ix) => ratioOfSums(klS, tokens, ix)),
      klBase: bootstrap(answers.length, (ix) => ratioOfSums(klB, tokens, ix)),
      captured: bootstrap(answers.length, (ix) => captured(klS, klB, ix)),
    },
  };
}
