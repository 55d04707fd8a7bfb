/**
 * Smoke passes before a paper-scale run: the same persona, models, recipe, objective and
 * character options, end to end (questions to report), on tiny data and a few steps, so a
 * configuration error a one-minute run catches never kills a paper run after an hour.
 *
 *   small: the smoke scale's sizes (24 questions, 32 new tokens) and 4 training steps;
 *   large: the paper scale's training settings (LoRA rank, batch size, max length, learning
 *          rate) and its generation settings up to 128 new tokens, on one batch of questions
 *          and 2 training steps: what only the large settings break (memory, lengths).
 *
 * Each pass is a run of its own (its id says smoke-small / smoke-large), kept for inspection.
 * The first pass that fails stops the rest.
 */
import type { SmokeChoice, SmokePassResult, SmokeSize } from '../../src-shared/character';
import { errorMessage } from '../core/errors';
import type { ScaleConfig } from '../core/scales';
import type { RunRecord } from '../store';
import { createRun, type CreateRunOptions } from './create-run';
import type { PipelineRunner } from '../pipeline/runner';
import type { PipelineServices } from '../pipeline/services';

/** Optimizer steps of each pass. */
const SMALL_STEPS = 4;
const LARGE_STEPS = 2;
/** New tokens per answer in the large pass (the paper scale's 512 would take minutes on a CPU). */
const LARGE_MAX_NEW_TOKENS = 128;
const LARGE_HELD_OUT = 4;

/** The run's training overrides but its length: each pass sets its own few steps. */
function withoutMaxSteps(t: CreateRunOptions['training']): CreateRunOptions['training'] {
  if (!t) return t;
  const { maxSteps: _omit, ...rest } = t;
  return rest;
}

export function smokeSizes(choice: SmokeChoice): SmokeSize[] {
  return choice === 'none' ? [] : choice === 'both' ? ['small', 'large'] : [choice];
}

/** The scale settings of a pass, adjusted in place on the scale's own (small: smoke; large: paper). */
export function smokeScale(size: SmokeSize, sc: ScaleConfig): void {
  const t = sc.training;
  if (size === 'small') {
    t.maxSteps = SMALL_STEPS;
  } else {
    t.maxSteps = LARGE_STEPS;
    // One batch of training questions, a few held out.
    sc.heldOut = LARGE_HELD_OUT;
    sc.questions = t.batchSize * t.gradAccum + Math.ceil(t.batchSize * sc.valFraction) + LARGE_HELD_OUT + 4;
    sc.generation.maxNewTokens = Math.min(sc.generation.maxNewTokens, LARGE_MAX_NEW_TOKENS);
    sc.audit.minWords = 1;
    const e = sc.evaluation;
    e.maxNewTokens = Math.min(e.maxNewTokens, 32);
    e.classifierNegatives = 8;
    e.capabilityItems = 2;
    e.safetyItems = 2;
    e.savingsQuestions = 1;
    e.valScoreItems = 4;
  }
  t.warmupSteps = Math.min(t.warmupSteps, t.maxSteps - 1);
  t.evalEvery = t.maxSteps;
  t.saveEvery = t.maxSteps;
}

export interface SmokeOptions {
  signal?: AbortSignal;
  /** Called before each pass starts and after it ends. */
  onPass?: (size: SmokeSize, result: SmokePassResult | null, run: RunRecord) => void;
}

/**
 * Runs the chosen passes of the run that `base` describes; returns every pass tried (the
 * first failure ends the list) and whether all passed.
 */
export async function runSmokePasses(
  services: Pick<PipelineServices, 'dataDir' | 'settings' | 'store' | 'personas'>,
  runner: Pick<PipelineRunner, 'run'>,
  base: CreateRunOptions,
  choice: SmokeChoice,
  opts: SmokeOptions = {},
): Promise<{ ok: boolean; passes: SmokePassResult[] }> {
  const passes: SmokePassResult[] = [];
  for (const size of smokeSizes(choice)) {
    const started = performance.now();
    const character = base.character
      ? { ...base.character, reflectionSamples: 1, interactions: 1, interactionTurns: 2 }
      : base.recipe === 'character'
        ? { reflectionSamples: 1, interactions: 1, interactionTurns: 2 }
        : undefined;
    const run = createRun(services, {
      ...base,
      scale: size === 'small' ? 'smoke' : 'paper',
      training: withoutMaxSteps(base.training),
      ...(character ? { character } : {}),
      label: `smoke-${size}`,
      adjustScale: (sc) => smokeScale(size, sc),
    });
    opts.onPass?.(size, null, run);
    let result: SmokePassResult;
    try {
      const done = await runner.run(run.id, { signal: opts.signal });
      result = {
        size,
        runId: run.id,
        ok: done.status === 'completed',
        seconds: (performance.now() - started) / 1000,
        failedStep: done.status === 'completed' ? null : done.step,
        error: done.status === 'completed' ? null : (done.error ?? `ended ${done.status}`),
      };
    } catch (error) {
      if (opts.signal?.aborted) throw error;
      const stored = services.store.runs.get(run.id);
      result = {
        size,
        runId: run.id,
        ok: false,
        seconds: (performance.now() - started) / 1000,
        failedStep: stored?.step ?? null,
        error: errorMessage(error),
      };
    }
    passes.push(result);
    opts.onPass?.(size, result, run);
    if (!result.ok) return { ok: false, passes };
  }
  return { ok: true, passes };
}

/** One line per failed pass, for the message that stops the paper run. */
export function smokeFailureMessage(passes: readonly SmokePassResult[]): string {
  const failed = passes.find((p) => !p.ok);
  if (!failed) return 'every smoke pass passed';
  return `the ${failed.size} smoke pass failed at ${failed.failedStep ?? 'start'} (run ${failed.runId}): ${failed.error ?? 'unknown error'}. The paper-scale run was not started; fix the configuration (or skip the check with --no-smoke).`;
}
