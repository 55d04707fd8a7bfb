/**
 * The evaluate and savings steps: gather the run's held-out questions, stored teacher answers,
 * training pairs and final checkpoint, and hand them to the evaluation orchestrator; then
 * measure what the distilled student saves against the teacher-with-prompt on the same engine.
 */
import type { SavingsSummary } from '../../../src-shared/contract';
import { evaluateRun, type HeldOutQuestion } from '../../evaluation/evaluate';
import { openAnswerCache } from '../../evaluation/answer-cache';
import { evaluationCacheDir } from '../../core/paths';
import { loadCapabilitySet, loadSafetySet } from '../../questions/eval-sets';
import { computeSavings, measureSavings, trainingCostUsd } from '../../savings';
import { PipelineError, StepOrderError } from '../../core/errors';
import type { StepContext } from '../runner';
import type { PipelineServices } from '../services';
import { countJsonlRows } from '../../datasets';
import { finalCheckpoint } from '../engine-training';
import { constitutionTraits, revealedTraits } from '../../evaluation/traits';
import { characterStages } from '../../evaluation/stage-checkpoints';
import { runRobustness } from './robustness';
import { EVALUATION_NLL } from '../../../src-shared/losses';

export async function evaluateStep(studio: PipelineServices, ctx: StepContext): Promise<void> {
  const { store } = studio;
  const runId = ctx.run.id;
  const cfg = ctx.run.config;
  const persona = studio.personas.get(ctx.run.personaId, ctx.run.personaVersion);
  const cp = finalCheckpoint(studio, runId);
  if (!cp) throw new StepOrderError('evaluate', 'a trained checkpoint (run the train step)');
  const questions = store.questions.listByRun(runId);
  const examples = store.examples.listByRun(runId);
  const answerOf = new Map(examples.map((e) => [e.questionId, e]));
  const heldOut: HeldOutQuestion[] = questions
    .filter((q) => q.heldout)
    .map((q) => ({
      questionId: q.id,
      category: q.category,
      question: q.text,
      teacherAnswer: answerOf.get(q.id)?.answer ?? null,
    }));
  if (heldOut.length === 0)
    throw new PipelineError('the run has no held-out questions to evaluate on', { runId });
  // Classifier data: training questions only (kept by the audit, in the train split).
  const train = store.examples.listByRun(runId, { split: 'train' });
  const trainPairs = train.map((e) => ({ question: e.question, answer: e.answer }));
  if (trainPairs.length < 4)
    throw new PipelineError(
      `too few training examples (${trainPairs.length}) to fit the in-character classifier`,
    );
  const answerCache = await openAnswerCache(studio.engine, evaluationCacheDir(studio.dataDir));
  const result = await evaluateRun(studio.engine, {
    runId,
    checkpointId: cp.id,
    adapterPath: cp.path,
    model: cfg.studentModel,
    // KL needs the teacher that wrote the answers: not an endpoint, not an imported file.
    teacherModel:
      cfg.teacherProvider === 'local' && cfg.importedData?.use !== 'teacher' ? cfg.teacherModel : null,
    systemPrompt: persona.systemPrompt,
    characterName: persona.name,
    keywords: persona.keywords,
    heldOut,
    trainPairs,
    valPath: countJsonlRows(ctx.paths.val) > 0 ? ctx.paths.val : null,
    capability: loadCapabilitySet(),
    safety: loadSafetySet(),
    settings: ctx.scale.evaluation,
    teacherMaxNewTokens: ctx.scale.generation.maxNewTokens,
    judge: studio.settings.get('judge'),
    localJudge: studio.settings.get('localJudge') ?? null,
    revealedTraits: revealedTraits(constitutionTraits(persona)),
    stages: characterStages(studio.store, runId, cp),
    classifierPath: ctx.paths.classifier,
    resultsPath: ctx.paths.evaluationResults,
    answerCache,
    signal: ctx.signal,
    progress: (done, total, message) => ctx.progress(done, total, message),
  });
  ctx.log(
    `base answers from the evaluation cache: ${answerCache.hits} of ${answerCache.hits + answerCache.misses} chunks`,
  );
  // How the character holds (identity, break-character, multi-turn), at chat's sampling settings.
  result.summary.robustness = await runRobustness(studio, ctx.run, ctx.paths, {
    signal: ctx.signal,
    progress: (done, total, message) => ctx.progress(done, total, message),
  });
  store.evaluations.save({ runId, checkpointId: cp.id, summary: result.summary, items: result.items });
  const s = result.summary;
  const finite = (x: number | null): x is number => x !== null && Number.isFinite(x);
  const metrics: Record<string, number> = { ...cp.metrics };
  if (finite(s.inCharacterShare.student)) metrics.inCharacter = s.inCharacterShare.student;
  if (s.distillation && finite(s.distillation.captured)) metrics.captured = s.distillation.captured;
  if (s.distillation && finite(s.distillation.klStudent)) metrics.klToTeacher = s.distillation.klStudent;
  if (finite(s.difflib.student)) metrics.difflib = s.difflib.student;
  if (finite(s.cosine.student)) metrics.cosine = s.cosine.student;
  // The evaluation's NLL, not the training loop's validation loss (src-shared/losses.ts).
  if (finite(s.valLoss)) metrics[`val${EVALUATION_NLL.key}`] = s.valLoss;
  if (finite(s.perplexity)) metrics.perplexity = s.perplexity;
  store.checkpoints.update(cp.id, { metrics });
  for (const note of result.notes) ctx.log(`note: ${note}`);
  // Seed 004's rule: a checkpoint that passes the gate is promoted (the registry keeps the last
  // three promoted, and rollback restores the previous one).
  if (s.gate.passed) {
    studio.registry.promote(cp.id);
    ctx.log(`promoted ${cp.id}: the gate passed (${s.gate.reasons.join('; ')})`);
  } else {
    ctx.log(`${cp.id} stays a candidate: ${s.gate.reasons.join('; ')}`);
  }
}

/** Prompt tokens, time to first token and latency: student (no prompt) vs teacher (with prompt). */
export async function savingsStep(studio: PipelineServices, ctx: StepContext): Promise<void> {
  const { store, engine } = studio;
  const runId = ctx.run.id;
  const cfg = ctx.run.config;
  const persona = studio.personas.get(ctx.run.personaId, ctx.run.personaVersion);
  const cp = finalCheckpoint(studio, runId);
  if (!cp) throw new StepOrderError('savings', 'a trained checkpoint (run the train step)');
  const heldOut = store.questions.listByRun(runId, { heldout: true });
  const n = Math.min(ctx.scale.evaluation.savingsQuestions, heldOut.length);
  if (n === 0) throw new PipelineError('no held-out questions to time', { runId });
  const measured = await measureSavings(engine, {
    model: cfg.studentModel,
    adapter: cp.path,
    systemPrompt: persona.systemPrompt,
    questions: heldOut.slice(0, n).map((q) => q.text),
    sampling: { temperature: 0, top_p: 1, max_new_tokens: ctx.scale.evaluation.maxNewTokens, seed: 0 },
    signal: ctx.signal,
    onProgress: (done, total) =>
      ctx.progress(done, total, 'timing teacher (with prompt) vs student (no prompt)'),
  });
  const prices = studio.settings.get('prices');
  const result = computeSavings({
    promptTokensTeacher: measured.teacher.promptTokens,
    promptTokensStudent: measured.student.promptTokens,
    completionTokensTeacher: measured.teacher.completionTokens,
    completionTokensStudent: measured.student.completionTokens,
    ttftMsTeacher: measured.teacher.ttftMs,
    ttftMsStudent: measured.student.ttftMs,
    latencyMsTeacher: measured.teacher.latencyMs,
    latencyMsStudent: measured.student.latencyMs,
    prices,
    trainingCostUsd: trainingCostUsd(ctx.run.timings.train ?? 0, prices.trainingPerHour),
  });
  const summary: SavingsSummary = {
    promptTokensTeacher: result.promptTokensTeacher,
    promptTokensStudent: result.promptTokensStudent,
    tokenReduction: result.tokenReduction,
    ttftMsTeacher: result.ttftMsTeacher,
    ttftMsStudent: result.ttftMsStudent,
    latencyMsTeacher: result.latencyMsTeacher,
    latencyMsStudent: result.latencyMsStudent,
    latencyRatio: result.latencyRatio,
    costPerMillionTeacher: result.costPerMillionTeacher,
    costPerMillionStudent: result.costPerMillionStudent,
    paybackQueries: result.paybackQueries,
  };
  store.savings.save(runId, cp.id, summary);
  ctx.log(`savings over ${n} queries: ${JSON.stringify({ ...result, measured })}`);
}
