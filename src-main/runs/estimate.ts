/**
 * What a step will cost before it runs (the CLI prints it; `runs:estimate` returns it). Throughputs come from what this data
 * folder has measured (earlier runs' generate timings, training tokens/s); before any run has
 * measured them, a stated assumption is used and the explanation says so.
 */
import type { ApiResult, PipelineStep } from '../../src-shared/contract';
import { estimateGeneration } from '../providers';
import { loadHeldOutRobustness } from '../robustness/prompt-sets';
import type { RunRecord, Store } from '../store';
import type { PipelineServices } from '../pipeline/services';

type Estimate = ApiResult<'runs:estimate'>;
type EstimateServices = Pick<PipelineServices, 'store' | 'settings'>;

/**
 * Tokens/s assumed for generation until a run has been timed here: one-at-a-time generation of
 * a 35.7M-parameter model on 2 CPU cores measured 35 tokens/s (docs' REFERENCE figures), a
 * cautious lower bound for batched generation.
 */
const ASSUMED_GENERATION_TPS = 35;
/** Training tokens/s assumed until a training job has reported its own (a cautious CPU figure). */
const ASSUMED_TRAINING_TPS = 300;
/** Answers embedded per second by the audit's MiniLM on CPU (assumed, cautious). */
const ASSUMED_EMBEDS_PER_S = 20;
/** The report step's export and reports, assumed until a run here has timed it (seconds). */
const ASSUMED_REPORT_SECONDS = 20;
/** Tokens per word of English prose under BPE tokenizers (about 1.3). */
const TOKENS_PER_WORD = 1.3;
/** Chat-template and question tokens added to the system prompt per item (about). */
const QUESTION_TOKENS = 40;

interface Throughput {
  tps: number;
  measured: boolean;
}

/** Completion tokens per second of the newest run whose generate step was timed. */
function generationThroughput(store: Store): Throughput {
  for (const run of store.runs.list()) {
    const seconds = run.timings.generate;
    if (!seconds || seconds <= 0) continue;
    const tokens = store.examples.listByRun(run.id).reduce((sum, e) => sum + e.completionTokens, 0);
    if (tokens > 0) return { tps: tokens / seconds, measured: true };
  }
  return { tps: ASSUMED_GENERATION_TPS, measured: false };
}

function trainingThroughput(store: Store): Throughput {
  for (const run of store.runs.list()) {
    const job = store.jobs.latestForRun(run.id);
    const tps = job ? store.metrics.last(job.id, 'train')?.tokensPerS : undefined;
    if (tps && tps > 0) return { tps, measured: true };
  }
  return { tps: ASSUMED_TRAINING_TPS, measured: false };
}

function promptTokensPerItem(s: EstimateServices, run: RunRecord): { tokens: number; measured: boolean } {
  const examples = s.store.examples.listByRun(run.id, { limit: 50 });
  if (examples.length > 0) {
    return {
      tokens: Math.round(examples.reduce((a, e) => a + e.promptTokens, 0) / examples.length),
      measured: true,
    };
  }
  const persona = s.store.personas.get(run.personaId, run.personaVersion);
  const words = persona ? persona.source.split(/\s+/).length : 500;
  return { tokens: Math.round(words * TOKENS_PER_WORD) + QUESTION_TOKENS, measured: false };
}

/**
 * Seconds a step took in the newest run of this scale and recipe on this machine (this run's own
 * earlier pass included): what evaluate, savings and report cost is mostly fixed work that a
 * token count misses (loading models, scoring, the classifier, embeddings, the export).
 */
function measuredStep(
  store: Store,
  run: RunRecord,
  step: PipelineStep,
): { seconds: number; runId: string } | null {
  for (const r of store.runs.list()) {
    if (r.scale !== run.scale || r.config.recipe !== run.config.recipe) continue;
    const seconds = r.timings[step];
    if (seconds && seconds > 0) return { seconds, runId: r.id };
  }
  return null;
}

/** Answers the robustness evaluation samples: every held-out robustness prompt, per model. */
function robustnessAnswers(run: RunRecord): { answers: number; models: number } {
  const p = loadHeldOutRobustness();
  const turns = p.multiturn.length ? Math.min(...p.multiturn.map((c) => c.length)) : 0;
  const perModel =
    p.identity.length +
    Object.values(p.break).reduce((a, list) => a + list.length, 0) +
    Math.min(p.appended.count, run.config.scaleConfig.heldOut) +
    p.multiturn.length * turns;
  const cfg = run.config;
  const models = 2 + (cfg.teacherProvider === 'local' && cfg.importedData?.use !== 'teacher' ? 1 : 0);
  return { answers: perModel * models, models };
}

function describe(t: Throughput, what: string): string {
  return t.measured
    ? `${Math.round(t.tps)} ${what} tokens/s measured on this machine`
    : `an assumed ${t.tps} ${what} tokens/s (nothing measured here yet)`;
}

export function estimateStep(s: EstimateServices, run: RunRecord, step: PipelineStep): Estimate {
  const cfg = run.config;
  const sc = cfg.scaleConfig;
  const prices = s.settings.get('prices');
  const remote = cfg.teacherProvider === 'openai';
  const gen = generationThroughput(s.store);

  switch (step) {
    case 'generate': {
      if (cfg.importedData?.use === 'teacher')
        return {
          seconds: 1,
          tokens: 0,
          costUsd: 0,
          explanation: `the teacher answers are imported from ${cfg.importedData.path}: no model calls.`,
        };
      const answered = s.store.examples.countByRun(run.id);
      // Stored questions when the questions step ran (robustness prompts included), else the scale's.
      const questions = s.store.questions.countByRun(run.id) || sc.questions;
      const heldOut = s.store.questions.countByRun(run.id, { heldout: true }) || sc.heldOut;
      // Each training question is sampled samplesPerQuestion times (the best is kept).
      const samples = Math.max(1, sc.generation.samplesPerQuestion);
      const count = Math.max(0, (questions - heldOut) * samples + heldOut - answered * samples);
      if (count === 0)
        return {
          seconds: 0,
          tokens: 0,
          costUsd: 0,
          explanation: `all ${answered} answers are stored: running this step again asks the teacher nothing.`,
        };
      const prompt = promptTokensPerItem(s, run);
      const e = estimateGeneration({
        count,
        promptTokens: prompt.tokens,
        maxNewTokens: sc.generation.maxNewTokens,
        // Only a measured throughput goes in; an assumed one is applied below and said so.
        tokensPerSecond: !remote && gen.measured ? gen.tps : null,
        // A local teacher costs nothing but time; an endpoint bills tokens.
        pricePerMillionInput: remote ? prices.teacherInputPerMillion : 0,
        pricePerMillionOutput: remote ? prices.teacherOutputPerMillion : 0,
      });
      const seconds = e.seconds ?? e.outputTokens / gen.tps;
      // Without a measured throughput the provider's estimate says "time unknown": say what we assume.
      const explanation =
        e.seconds === null
          ? e.explanation.replace(
              /time unknown \([^)]*\)/,
              `about ${Math.round(seconds)} s at ${describe(gen, 'generated')}`,
            )
          : e.explanation;
      return {
        seconds: Math.round(seconds),
        tokens: e.tokens,
        costUsd: e.costUsd,
        explanation: `${explanation}. Prompt size ${prompt.measured ? 'measured' : 'estimated from the persona'}.`,
      };
    }
    case 'train': {
      const t = sc.training;
      const tokens = t.maxSteps * t.batchSize * t.gradAccum * t.maxLength;
      const train = trainingThroughput(s.store);
      const seconds = tokens / train.tps;
      const costUsd = (seconds / 3600) * prices.trainingPerHour;
      return {
        seconds: Math.round(seconds),
        tokens,
        costUsd,
        explanation: `${t.maxSteps} steps x ${t.batchSize * t.gradAccum} examples x up to ${t.maxLength} tokens = ${tokens} tokens (upper bound) at ${describe(train, 'training')}; $${prices.trainingPerHour}/h of compute.`,
      };
    }
    case 'evaluate':
    case 'savings': {
      const ev = sc.evaluation;
      // evaluate: held-out questions answered by student, teacher and base, the classifier's
      // negatives, capability and safety items, and the robustness prompts at chat's length for
      // each model; savings: timed pairs.
      const robustness = step === 'evaluate' ? robustnessAnswers(run) : { answers: 0, models: 0 };
      const answers =
        step === 'evaluate'
          ? sc.heldOut * 3 + ev.classifierNegatives + ev.capabilityItems * 3 + ev.safetyItems * 3
          : ev.savingsQuestions * 2;
      const tokens = answers * ev.maxNewTokens + robustness.answers * ev.robustnessMaxTokens;
      const measured = measuredStep(s.store, run, step);
      const counted = `${answers} answers x up to ${ev.maxNewTokens} new tokens${robustness.answers ? ` + ${robustness.answers} robustness answers (${robustness.models} models) x up to ${ev.robustnessMaxTokens}` : ''} on the local engine`;
      if (measured)
        return {
          seconds: Math.round(measured.seconds),
          tokens,
          costUsd: 0,
          explanation: `${step} took ${Math.round(measured.seconds)} s in run ${measured.runId} at this scale on this machine (${counted}).`,
        };
      return {
        seconds: Math.round(tokens / gen.tps),
        tokens,
        costUsd: 0,
        explanation: `${counted} at ${describe(gen, 'generated')}; scoring, the classifier and embeddings add to it.`,
      };
    }
    case 'audit': {
      const examples = s.store.examples.countByRun(run.id) || sc.questions;
      const seconds = Math.ceil(examples / ASSUMED_EMBEDS_PER_S);
      return {
        seconds,
        tokens: 0,
        costUsd: 0,
        explanation: `embeds ${examples} answers once (all-MiniLM-L6-v2) for near-duplicates, at an assumed ${ASSUMED_EMBEDS_PER_S} answers/s; no generation.`,
      };
    }
    case 'report': {
      // The report step exports the adapter (GGUF LoRA, Modelfile) and counts the prompt's tokens.
      const measured = measuredStep(s.store, run, step);
      return {
        seconds: measured ? Math.round(measured.seconds) : ASSUMED_REPORT_SECONDS,
        tokens: 0,
        costUsd: 0,
        explanation: measured
          ? `report (the adapter's export and the reports) took ${Math.round(measured.seconds)} s in run ${measured.runId} on this machine.`
          : `exports the adapter (GGUF LoRA, Modelfile) and writes the reports: an assumed ${ASSUMED_REPORT_SECONDS} s (nothing measured here yet).`,
      };
    }
    case 'questions':
    case 'split':
      return {
        seconds: 1,
        tokens: 0,
        costUsd: 0,
        explanation: `${step} runs in the app itself: no model calls, about a second.`,
      };
  }
}
