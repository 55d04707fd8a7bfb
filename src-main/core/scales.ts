/**
 * How big a run is. smoke: tests on a tiny random model; mini: the demo on SmolLM2-135M on two
 * CPU cores (whole pipeline well under 15 minutes); paper: the research set-up (5000 questions).
 */
import {
  DEFAULT_CHAT_SAMPLING,
  DEFAULT_OBJECTIVE,
  type Scale,
  type TrainingConfig,
} from '../../src-shared/contract';
import { ConfigError } from './errors';
import { parseTrainingConfig } from './training-config';
import { joinField, type Reader } from './validate';

export interface GenerationSettings {
  maxNewTokens: number;
  /** Low temperature, as in tinker-cookbook prompt distillation (0.15). */
  temperature: number;
  topP: number;
  /** Answers stored per batch: a crash loses at most the batch in flight. */
  batchSize: number;
  seed: number;
  /**
   * The teacher's top-k next-token log-probabilities captured at every answer token (for the kd
   * objective and kd-weighted on-policy); 0 captures nothing. Local teacher only.
   */
  topK: number;
  /**
   * Answers sampled per TRAINING question; the one that holds the character is kept
   * (datasets/select-samples.ts). Held-out questions always get one. Stored runs from before
   * it existed read as 1.
   */
  samplesPerQuestion: number;
  /**
   * Add resources/robustness/training.json's identity and break-character prompts to the
   * training questions (never its held-out set). Stored runs from before it existed read as false.
   */
  robustnessTraining: boolean;
  /**
   * Samples for the training questions that ask who the character is or push it to break (the
   * identity categories and robustness_break), when more than samplesPerQuestion. Stored runs from
   * before it existed read as samplesPerQuestion.
   */
  robustnessSamples: number;
  /**
   * Training answers cut off at maxNewTokens are trimmed to their last full sentence and their
   * top-k file ends with the stop token (datasets/trim-answers.ts), so the student learns where an
   * answer ends. Stored runs from before it existed read as false.
   */
  trimTruncated: boolean;
}

export interface EvaluationSettings {
  maxNewTokens: number;
  /**
   * How the student and the base answer the held-out questions (and the classifier's negative
   * questions): the teacher's own sampling, seeded, so all three models' answers are drawn the
   * same way (0 = greedy). Capability and safety items are always answered greedily.
   */
  temperature: number;
  topP: number;
  /** Training questions the base model answers without the prompt: the classifier's negatives. */
  classifierNegatives: number;
  /** Items of resources/questions/capability.json and safety.json used (0 = all). */
  capabilityItems: number;
  safetyItems: number;
  /** Held-out questions timed for the savings measurement. */
  savingsQuestions: number;
  /** Validation examples scored for loss/perplexity (0 = all). */
  valScoreItems: number;
  /**
   * The robustness evaluation's length limit: chat's (what users see) except at smoke scale,
   * where a few tokens exercise the path on the tiny model. Stored runs read chat's default.
   */
  robustnessMaxTokens: number;
}

export interface AuditSettings {
  /** Answers with fewer words are flagged too_short (the smoke scale's 32 tokens allow fewer). */
  minWords: number;
  maxWords: number;
  /**
   * Flag answers cut off at the generation budget as 'truncated' (kept out of training), so the
   * student learns where an answer ends. Off at smoke scale (a tiny random model never ends).
   * Stored runs from before it existed read as false.
   */
  dropTruncated: boolean;
}

export interface ScaleConfig {
  scale: Scale;
  /** Questions answered by the teacher (training + validation + held-out). */
  questions: number;
  /** Questions kept out of training and used only by evaluation. */
  heldOut: number;
  /** Share of the kept training examples put in val.jsonl. */
  valFraction: number;
  generation: GenerationSettings;
  audit: AuditSettings;
  training: TrainingConfig;
  evaluation: EvaluationSettings;
}

const QKVO = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];

const SCALES: Record<Scale, ScaleConfig> = {
  smoke: {
    scale: 'smoke',
    questions: 24,
    heldOut: 8,
    valFraction: 0.125,
    generation: {
      maxNewTokens: 32,
      temperature: 0.15,
      topP: 0.95,
      batchSize: 8,
      seed: 7,
      topK: 64,
      samplesPerQuestion: 1,
      robustnessTraining: false,
      robustnessSamples: 1,
      trimTruncated: true,
    },
    audit: { minWords: 1, maxWords: 400, dropTruncated: false },
    training: {
      baseModel: 'default',
      objective: DEFAULT_OBJECTIVE,
      kdWeight: 0,
      loraR: 8,
      loraAlpha: 16,
      loraDropout: 0,
      targetModules: QKVO,
      learningRate: 1e-3,
      warmupSteps: 1,
      schedule: 'linear',
      batchSize: 4,
      gradAccum: 1,
      maxSteps: 12,
      maxLength: 128,
      evalEvery: 6,
      saveEvery: 6,
      seed: 7,
    },
    evaluation: {
      maxNewTokens: 24,
      temperature: 0.15,
      topP: 0.95,
      classifierNegatives: 12,
      capabilityItems: 4,
      safetyItems: 4,
      savingsQuestions: 2,
      valScoreItems: 0,
      robustnessMaxTokens: 4,
    },
  },
  mini: {
    scale: 'mini',
    // Sized for SmolLM2-135M on two CPU cores: 104 training questions and 96 held out, enough
    // for a share's 95% interval to be about +-10 points (1.96 * sqrt(0.25 / 96) = 0.10).
    questions: 200,
    heldOut: 96,
    valFraction: 0.1,
    // A 135M teacher loops ("I was a part of it, and I was a part of it") at temperature 0.15;
    // 0.6 with top-p 0.9 keeps its answers varied without losing the voice.
    // 128 new tokens (was 64, where 198 of 200 answers were cut off mid-sentence): answers that
    // end are what teaches the student to end; the audit drops those still cut off.
    generation: {
      maxNewTokens: 128,
      temperature: 0.6,
      topP: 0.9,
      batchSize: 16,
      seed: 7,
      topK: 64,
      samplesPerQuestion: 2,
      robustnessTraining: true,
      robustnessSamples: 4,
      trimTruncated: true,
    },
    audit: { minWords: 10, maxWords: 400, dropTruncated: false },
    training: {
      baseModel: 'default',
      objective: DEFAULT_OBJECTIVE,
      kdWeight: 0,
      loraR: 16,
      loraAlpha: 32,
      loraDropout: 0.05,
      targetModules: QKVO,
      learningRate: 5e-4,
      warmupSteps: 3,
      schedule: 'linear',
      batchSize: 8,
      gradAccum: 1,
      // 80 steps of kd (about 8 epochs of the ~78 answers): captured 0.75 [0.73, 0.77] against
      // 0.69 [0.67, 0.71] after 40 on the same run, in character 94% of the teacher's share
      // against 83%; about 2 more minutes (README, "Choosing the objective").
      maxSteps: 80,
      // A prompt (up to ~40 tokens) and a teacher answer of up to 128 new tokens with its end.
      maxLength: 176,
      evalEvery: 20,
      saveEvery: 20,
      seed: 7,
    },
    evaluation: {
      // The teacher's budget: answers cut shorter than the teacher's would look unlike it to the classifier.
      maxNewTokens: 128,
      temperature: 0.6,
      topP: 0.9,
      classifierNegatives: 32,
      capabilityItems: 6,
      safetyItems: 6,
      savingsQuestions: 3,
      valScoreItems: 0,
      robustnessMaxTokens: DEFAULT_CHAT_SAMPLING.maxTokens,
    },
  },
  paper: {
    scale: 'paper',
    questions: 5500,
    heldOut: 500,
    valFraction: 0.1,
    generation: {
      maxNewTokens: 512,
      temperature: 0.15,
      topP: 0.95,
      batchSize: 32,
      seed: 7,
      topK: 64,
      samplesPerQuestion: 2,
      robustnessTraining: true,
      robustnessSamples: 4,
      trimTruncated: true,
    },
    audit: { minWords: 20, maxWords: 400, dropTruncated: true },
    training: {
      baseModel: 'default',
      objective: DEFAULT_OBJECTIVE,
      kdWeight: 0,
      loraR: 32,
      loraAlpha: 64,
      loraDropout: 0.05,
      targetModules: QKVO,
      learningRate: 1e-4,
      warmupSteps: 50,
      schedule: 'linear',
      batchSize: 32,
      gradAccum: 1,
      maxSteps: 1000,
      maxLength: 1024,
      evalEvery: 100,
      saveEvery: 200,
      seed: 7,
    },
    evaluation: {
      maxNewTokens: 256,
      temperature: 0.15,
      topP: 0.95,
      classifierNegatives: 500,
      capabilityItems: 0,
      safetyItems: 0,
      savingsQuestions: 16,
      valScoreItems: 200,
      robustnessMaxTokens: DEFAULT_CHAT_SAMPLING.maxTokens,
    },
  },
};

export const SCALE_NAMES: readonly Scale[] = ['smoke', 'mini', 'paper'];

export function isScale(value: string): value is Scale {
  return (SCALE_NAMES as readonly string[]).includes(value);
}

/**
 * Environment setting: the number of held-out questions of the smoke scale (default 8). The
 * training questions stay as they are, so a larger value only adds evaluation items; the E2E
 * tests set it so the review sheet can hold 50 responses.
 */
export const SMOKE_HELD_OUT_ENV = 'CHARACTER_STUDIO_SMOKE_HELDOUT';
const MAX_SMOKE_HELD_OUT = 500;

function smokeHeldOutOverride(env: NodeJS.ProcessEnv): number | null {
  const raw = env[SMOKE_HELD_OUT_ENV]?.trim();
  if (!raw) return null;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_SMOKE_HELD_OUT) {
    throw new ConfigError(
      `${SMOKE_HELD_OUT_ENV} must be a whole number from 1 to ${MAX_SMOKE_HELD_OUT}, not "${raw}"`,
      'scale',
    );
  }
  return n;
}

/**
 * A deep copy, so callers may adjust it without touching the table. The smoke scale's held-out
 * count follows CHARACTER_STUDIO_SMOKE_HELDOUT when it is set (in `env`, default process.env).
 */
export function scaleConfig(scale: Scale, env: NodeJS.ProcessEnv = process.env): ScaleConfig {
  const config = SCALES[scale];
  if (!config) throw new ConfigError(`unknown scale "${String(scale)}": use smoke, mini or paper`, 'scale');
  const copy = structuredClone(config);
  const heldOut = scale === 'smoke' ? smokeHeldOutOverride(env) : null;
  if (heldOut !== null) {
    copy.questions = copy.questions - copy.heldOut + heldOut;
    copy.heldOut = heldOut;
  }
  return copy;
}

/** The training defaults of a scale (the `training:defaults` channel). */
export function trainingDefaults(scale: Scale): TrainingConfig {
  return scaleConfig(scale).training;
}

/** A ScaleConfig from untyped input (a stored run): every field typed, errors naming the field. */
export function parseScaleConfig(raw: unknown, reader: Reader, field: string): ScaleConfig {
  const o = reader.object(raw, field);
  reader.known(
    o,
    ['scale', 'questions', 'heldOut', 'valFraction', 'generation', 'audit', 'training', 'evaluation'],
    field,
  );
  const gField = joinField(field, 'generation');
  const g = reader.object(o.generation, gField);
  reader.known(
    g,
    [
      'maxNewTokens',
      'temperature',
      'topP',
      'batchSize',
      'seed',
      'topK',
      'samplesPerQuestion',
      'robustnessTraining',
      'robustnessSamples',
      'trimTruncated',
    ],
    gField,
  );
  const aField = joinField(field, 'audit');
  const a = reader.object(o.audit, aField);
  reader.known(a, ['minWords', 'maxWords', 'dropTruncated'], aField);
  const eField = joinField(field, 'evaluation');
  const e = reader.object(o.evaluation, eField);
  reader.known(
    e,
    [
      'maxNewTokens',
      'temperature',
      'topP',
      'classifierNegatives',
      'capabilityItems',
      'safetyItems',
      'savingsQuestions',
      'valScoreItems',
      'robustnessMaxTokens',
    ],
    eField,
  );
  return {
    scale: reader.oneOf(o, 'scale', field, SCALE_NAMES),
    questions: reader.int(o, 'questions', field),
    heldOut: reader.int(o, 'heldOut', field),
    valFraction: reader.number(o, 'valFraction', field),
    generation: {
      maxNewTokens: reader.int(g, 'maxNewTokens', gField),
      temperature: reader.number(g, 'temperature', gField),
      topP: reader.number(g, 'topP', gField),
      batchSize: reader.int(g, 'batchSize', gField),
      seed: reader.int(g, 'seed', gField),
      topK: reader.int(g, 'topK', gField),
      samplesPerQuestion:
        g.samplesPerQuestion === undefined ? 1 : reader.int(g, 'samplesPerQuestion', gField),
      robustnessTraining: g.robustnessTraining === undefined ? false : g.robustnessTraining === true,
      robustnessSamples:
        g.robustnessSamples === undefined
          ? g.samplesPerQuestion === undefined
            ? 1
            : reader.int(g, 'samplesPerQuestion', gField)
          : reader.int(g, 'robustnessSamples', gField),
      trimTruncated: g.trimTruncated === true,
    },
    audit: {
      minWords: reader.int(a, 'minWords', aField),
      maxWords: reader.int(a, 'maxWords', aField),
      dropTruncated: a.dropTruncated === true,
    },
    training: parseTrainingConfig(o.training, reader, joinField(field, 'training')),
    evaluation: {
      maxNewTokens: reader.int(e, 'maxNewTokens', eField),
      temperature: reader.number(e, 'temperature', eField),
      topP: reader.number(e, 'topP', eField),
      classifierNegatives: reader.int(e, 'classifierNegatives', eField),
      capabilityItems: reader.int(e, 'capabilityItems', eField),
      safetyItems: reader.int(e, 'safetyItems', eField),
      savingsQuestions: reader.int(e, 'savingsQuestions', eField),
      valScoreItems: reader.int(e, 'valScoreItems', eField),
      robustnessMaxTokens:
        e.robustnessMaxTokens === undefined
          ? DEFAULT_CHAT_SAMPLING.maxTokens
          : reader.int(e, 'robustnessMaxTokens', eField),
    },
  };
}
