/**
 * Phase 6: how close the student is to the teacher, per token, on the teacher's own held-out
 * answers. The engine scores each answer's tokens under the teacher WITH the constitution and
 * under the student and the base WITHOUT it (exact KL over the full vocabulary at every answer
 * token, and each model's NLL); this module turns the per-answer sums into per-token means and
 * captured = 1 − KL_student / KL_base, with 95% intervals from resampling answers (the same
 * answers for every quantity, so the ratio's interval accounts for their correlation).
 */
import type { DistillationMetrics } from '../../src-shared/contract';
import type { EngineClient } from '../engine/client';
import { bootstrap, ratioOfSums } from './intervals';
import type { EvaluationProgress } from './progress';
import type { EvaluateInput } from './types';

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

/**
 * Scores the teacher's stored held-out answers under the teacher (with the constitution), the
 * student and the base (without it). null, with a note, when the teacher is not a local model or
 * no held-out question has a teacher answer.
 */
export async function distillationMetrics(
  engine: EngineClient,
  input: EvaluateInput,
  notes: string[],
  progress: EvaluationProgress,
): Promise<DistillationMetrics | null> {
  const answered = input.heldOut.filter((q) => q.teacherAnswer && q.teacherAnswer.trim() !== '');
  if (!input.teacherModel) {
    notes.push(
      'the teacher is not a local model (an endpoint, or imported answers): per-token KL to the teacher not measured',
    );
    progress.tick(1, 'distillation quality (skipped)');
    return null;
  }
  if (answered.length === 0) {
    notes.push('no stored teacher answers to held-out questions: per-token KL not measured');
    progress.tick(1, 'distillation quality (skipped)');
    return null;
  }
  const result = await engine.call(
    'kl_metrics',
    {
      teacher: { model: input.teacherModel, system: input.systemPrompt },
      students: [
        { model: input.model, ...(input.adapterPath ? { adapter: input.adapterPath } : {}) },
        { model: input.model },
      ],
      items: answered.map((q) => ({
        messages: [{ role: 'user' as const, content: q.question }],
        response: q.teacherAnswer as string,
      })),
    },
    { signal: input.signal },
  );
  progress.tick(1, 'distillation quality (per-token KL to the teacher)');
  return summarizeDistillation(
    result.items.map((it) => ({
      tokens: it.tokens,
      teacherNll: it.teacher_nll,
      student: it.students[0] ?? { kl: NaN, nll: NaN },
      base: it.students[1] ?? { kl: NaN, nll: NaN },
    })),
  );
}
