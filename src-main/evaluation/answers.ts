/**
 * Phase 1: answers of the three models on the held-out questions, greedy.
 *   student: base model + checkpoint adapter, NO system prompt
 *   teacher: the answers the generate step stored (WITH the constitution); missing ones are
 *            generated here the same way
 *   base:    base model, NO system prompt
 */
import type { ModelRole } from '../../src-shared/contract';
import type { GenerateOutput, SamplingParams } from '../../src-shared/engine-protocol';
import type { EvaluationSettings } from '../core/scales';
import type { EngineClient } from '../engine/client';
import { generateAll } from '../engine/generate-all';
import { cachedGenerateAll } from './answer-cache';
import type { EvaluationProgress } from './progress';
import type { EvaluateInput } from './types';

/** Items per engine call in evaluation (and per engine batch): large batches for throughput, small enough for timely progress. */
export const EVAL_CHUNK = 16;

/** The held-out answers' sampling: the run's evaluation settings, seeded. */
export function heldOutSampling(
  settings: EvaluationSettings,
  maxNewTokens = settings.maxNewTokens,
): SamplingParams {
  return { temperature: settings.temperature, top_p: settings.topP, max_new_tokens: maxNewTokens, seed: 0 };
}

/** Capability and safety items: greedy, so a right or refused answer does not depend on a draw. */
export function greedy(settings: EvaluationSettings): SamplingParams {
  return { temperature: 0, top_p: 1, max_new_tokens: settings.maxNewTokens, seed: 0 };
}

/** `prompts` answered by the student (adapter) or the base, no system prompt, as one progress phase. */
export async function answerWithoutPrompt(
  engine: EngineClient,
  input: EvaluateInput,
  role: 'student' | 'base',
  prompts: readonly string[],
  progress: EvaluationProgress,
  label: string,
  sampling: SamplingParams = heldOutSampling(input.settings),
): Promise<GenerateOutput[]> {
  const phase = progress.phase(label);
  const adapter = role === 'student' ? (input.adapterPath ?? undefined) : undefined;
  const request = {
    model: input.model,
    prompts,
    sampling,
    chunkSize: EVAL_CHUNK,
    signal: input.signal,
    onProgress: phase.update,
  };
  // The base model's answers do not depend on the run: kept between runs when a cache is given.
  const outs =
    adapter === undefined && input.answerCache
      ? await cachedGenerateAll(engine, input.answerCache, request)
      : await generateAll(engine, { ...request, adapter });
  phase.end(prompts.length);
  return outs;
}

export interface HeldOutAnswers {
  answers: Record<ModelRole, string[]>;
  /** Completion tokens of the student's and base's answers, per question. */
  tokens: Record<'student' | 'base', (number | null)[]>;
}

export async function heldOutAnswers(
  engine: EngineClient,
  input: EvaluateInput,
  progress: EvaluationProgress,
): Promise<HeldOutAnswers> {
  const questions = input.heldOut.map((q) => q.question);
  const student = await answerWithoutPrompt(
    engine,
    input,
    'student',
    questions,
    progress,
    'student answers (no prompt)',
  );
  const base = await answerWithoutPrompt(
    engine,
    input,
    'base',
    questions,
    progress,
    'base answers (no prompt)',
  );
  const teacherAnswers = new Map<number, string>();
  for (const q of input.heldOut) if (q.teacherAnswer) teacherAnswers.set(q.questionId, q.teacherAnswer);
  const missing = input.heldOut.filter((q) => !q.teacherAnswer);
  if (missing.length > 0) {
    const phase = progress.phase('teacher answers (with the constitution)');
    const outs = await generateAll(engine, {
      model: input.model,
      system: input.systemPrompt,
      prompts: missing.map((q) => q.question),
      sampling: heldOutSampling(input.settings, input.teacherMaxNewTokens),
      chunkSize: EVAL_CHUNK,
      signal: input.signal,
      onProgress: phase.update,
    });
    missing.forEach((q, i) => teacherAnswers.set(q.questionId, outs[i]?.text ?? ''));
    phase.end(missing.length);
  }
  return {
    answers: {
      student: student.map((o) => o.text.trim()),
      base: base.map((o) => o.text.trim()),
      teacher: input.heldOut.map((q) => (teacherAnswers.get(q.questionId) ?? '').trim()),
    },
    tokens: {
      student: student.map((o) => o.completion_tokens ?? null),
      base: base.map((o) => o.completion_tokens ?? null),
    },
  };
}
