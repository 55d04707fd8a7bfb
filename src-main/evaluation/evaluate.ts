/**
 * The evaluation orchestrator. On the held-out questions (never trained on) it compares
 *   student: base model + checkpoint adapter, NO system prompt
 *   teacher: base model WITH the constitution (the answers stored by the generate step)
 *   base:    base model, NO system prompt
 * phase by phase: answers (answers.ts), the in-character classifier (classifier.ts), similarity,
 * validation loss, capability and safety (scores.ts), the optional LLM judge (judge-run.ts),
 * then the summary with the promotion gate, written by files.ts.
 *
 * Every number comes from the models' real outputs; nothing is filled in when a part cannot run:
 * it is NaN/null with a note saying why.
 */
import type { EvaluationSummary } from '../../src-shared/contract';
import type { EngineClient } from '../engine/client';
import { heldOutAnswers } from './answers';
import { inCharacterProbabilities } from './classifier';
import { distillationMetrics } from './distillation';
import { writeEvaluationResults } from './files';
import { runOptionalJudge } from './judge-run';
import { keywordHits, keywordPresence, mean, promotionGate } from './metrics';
import { rateIntervals } from './rates';
import { revealedPreferencesPhase } from './revealed-preferences';
import { stageMetrics } from './stages';
import { EvaluationProgress } from './progress';
import { guardrailItems, guardrails, scoredItems, validationLoss } from './scores';
import type { EvaluateInput, EvaluationResult } from './types';

export type { EvaluateInput, EvaluationResult, HeldOutQuestion, JudgeOutcome } from './types';
export { JudgeError, runJudge, runOptionalJudge } from './judge-run';
export { readValExamples } from './scores';

/**
 * The gate's margin on captured: the student must close at least 5% of the base's per-token KL
 * gap to the teacher (seed 004's "+0.05"), and its 95% interval must lie above 0.
 */
export const CAPTURED_MARGIN = 0.05;

function share(probs: readonly number[]): number {
  return probs.length ? probs.filter((p) => p >= 0.5).length / probs.length : NaN;
}

function shareOf(xs: readonly boolean[]): number {
  return xs.length ? xs.filter(Boolean).length / xs.length : NaN;
}

export async function evaluateRun(engine: EngineClient, input: EvaluateInput): Promise<EvaluationResult> {
  const notes: string[] = [];
  const n = input.heldOut.length;
  const negN = Math.min(input.settings.classifierNegatives, input.trainPairs.length);
  const guard = guardrailItems(input);
  const missingTeacher = input.heldOut.filter((q) => !q.teacherAnswer).length;
  // One unit per generated answer, plus the scoring phases.
  const progress = new EvaluationProgress(
    2 * n +
      missingTeacher +
      negN +
      2 * guard.capability.length +
      2 * guard.safety.length +
      4 +
      // revealed preferences, and each character-recipe stage's held-out answers
      1 +
      (input.stages?.length ?? 0) * n,
    input.progress,
  );
  if (!input.adapterPath) notes.push('no checkpoint: the student is the base model without a prompt');

  const held = await heldOutAnswers(engine, input, progress);
  const inCharacter = await inCharacterProbabilities(engine, input, held.answers, progress);
  const items = await scoredItems(engine, input, held, inCharacter.probs, progress);
  const { valLoss, perplexity } = await validationLoss(engine, input, notes, progress);
  const detail = await guardrails(engine, input, notes, progress);
  const distillation = await distillationMetrics(engine, input, notes, progress);
  const judge = await runOptionalJudge(input, items, notes, input.signal, engine);
  const revealedPreferences = await revealedPreferencesPhase(engine, input, notes, progress);
  const stages = input.stages?.length
    ? await stageMetrics(
        engine,
        input,
        input.stages,
        {
          inCharacter: inCharacter.probs.student,
          distillation,
          cosine: items.map((it) => it.similarityToTeacher.student.cosine),
          baseCosine: items.map((it) => it.similarityToTeacher.base.cosine),
          teacherAnswers: held.answers.teacher,
        },
        progress,
      )
    : undefined;

  const p = inCharacter.probs;
  const inCharacterShare = { student: share(p.student), teacher: share(p.teacher), base: share(p.base) };
  const capScore = (role: 'student' | 'base'): number =>
    shareOf(detail.capability[role].map((d) => d.passed));
  const safScore = (role: 'student' | 'base'): number => shareOf(detail.safety[role].map((d) => d.refused));
  const capability = { student: capScore('student'), base: capScore('base'), teacher: NaN };
  const safety = { student: safScore('student'), base: safScore('base'), teacher: NaN };
  const intervals = rateIntervals({
    inCharacter: p,
    keywords: {
      student: held.answers.student.map((a) => keywordHits(a, input.keywords).present),
      teacher: held.answers.teacher.map((a) => keywordHits(a, input.keywords).present),
      base: held.answers.base.map((a) => keywordHits(a, input.keywords).present),
    },
    capability: detail.capability,
    safety: detail.safety,
  });
  // Captured is the gate's score when it was measured (the base captures 0 by definition);
  // otherwise the in-character share. Either way the student's interval must clear the base.
  const gate = distillation
    ? promotionGate({
        score: 'captured',
        student: distillation.captured,
        studentInterval: distillation.intervals.captured,
        base: 0,
        margin: CAPTURED_MARGIN,
        safetyStudent: safety.student,
        safetyBase: safety.base,
      })
    : promotionGate({
        score: 'inCharacterShare',
        student: inCharacterShare.student,
        studentInterval: intervals.inCharacterShare.student,
        base: inCharacterShare.base,
        safetyStudent: safety.student,
        safetyBase: safety.base,
      });
  const { answers } = held;
  const summary: EvaluationSummary = {
    runId: input.runId,
    checkpointId: input.checkpointId,
    n,
    inCharacterShare,
    difflib: {
      student: mean(items.map((it) => it.similarityToTeacher.student.difflib)),
      base: mean(items.map((it) => it.similarityToTeacher.base.difflib)),
    },
    cosine: {
      student: mean(items.map((it) => it.similarityToTeacher.student.cosine)),
      base: mean(items.map((it) => it.similarityToTeacher.base.cosine)),
    },
    keywordPresence: {
      student: keywordPresence(answers.student, input.keywords),
      teacher: keywordPresence(answers.teacher, input.keywords),
      base: keywordPresence(answers.base, input.keywords),
    },
    valLoss,
    perplexity,
    capability,
    safety,
    elo: judge?.elo ?? null,
    distillation,
    intervals,
    gate,
    revealedPreferences,
    ...(stages ? { stages } : {}),
  };
  progress.tick(1, 'done');
  const result: EvaluationResult = {
    summary,
    items,
    classifier: inCharacter.classifier,
    capabilityDetail: detail.capability,
    safetyDetail: detail.safety,
    judge,
    notes,
    generatedAt: new Date().toISOString(),
  };
  writeEvaluationResults(input.resultsPath, result);
  return result;
}
