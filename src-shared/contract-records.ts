/**
 * The records the renderer <-> main contract carries (contract.ts re-exports them all): runs,
 * personas, training, checkpoints, evaluation, savings, review and chat, with the few constants
 * both sides read (pipeline steps, objectives, chat sampling defaults, review dimensions).
 * Split from contract.ts, which keeps the channels, events, error codes and the bridge.
 */

import type { RobustnessSummary } from './robustness';
import type { LineageParent, RevealedPreferencesSummary, StageMetrics } from './character';

export type Scale = 'smoke' | 'mini' | 'paper';
/** 'interrupted': stored 'running' but the process running it died (killed, crashed); resumable. */
export type RunStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';
export type PipelineStep =
  'questions' | 'generate' | 'audit' | 'split' | 'train' | 'evaluate' | 'savings' | 'report';
/** Every pipeline step, in the order a run goes through them (the runner and the UI share it). */
export const PIPELINE_STEPS: readonly PipelineStep[] = [
  'questions',
  'generate',
  'audit',
  'split',
  'train',
  'evaluate',
  'savings',
  'report',
];

export interface ValidationIssue {
  /** 1-based line in the source text, when known. */
  line: number | null;
  /** Dotted path of the field, e.g. "directives.personality[2]". */
  field: string | null;
  message: string;
}

export interface PersonaSummary {
  id: string; // slug, e.g. "beethoven"
  name: string;
  version: number;
  format: 'yaml' | 'text';
  description: string;
  wordCount: number;
  builtIn: boolean;
}

export interface PersonaDetail extends PersonaSummary {
  source: string;
  /** The system prompt text the teacher sees. */
  systemPrompt: string;
  keywords: string[];
}

export interface RunSummary {
  id: string;
  personaId: string;
  personaVersion: number;
  scale: Scale;
  status: RunStatus;
  step: PipelineStep | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  dir: string;
}

export interface TeacherExampleRow {
  id: number;
  questionId: number;
  category: string;
  question: string;
  answer: string;
  promptTokens: number;
  completionTokens: number;
  /** Audit reasons; empty when the example passed. */
  flags: string[];
  split: 'train' | 'val' | null;
  /** The teacher reasoned before answering; its reasoning was cut out of `answer`. */
  thinking?: boolean;
}

export {
  IMPORT_FORMATS,
  type ImportedFile,
  type ImportFormat,
  type ImportSummary,
  type ImportUse,
} from './data-import';

export interface AuditSummary {
  total: number;
  kept: number;
  flagged: Record<string, number>;
  length: { mean: number; median: number; std: number; min: number; max: number };
  keywordPresence: number;
  exactDuplicates: number;
  nearDuplicates: number;
  categories: Record<string, number>;
}

export interface MetricPoint {
  step: number;
  kind: 'train' | 'eval';
  /** The objective's own loss (src-shared/losses.ts names it: kd loss, NLL, DPO loss, reverse KL). */
  loss: number;
  /** kd (and on-policy's validation): the NLL of the teacher's answer tokens beside the kd loss. */
  nll?: number;
  lr?: number;
  gradNorm?: number;
  tokensPerS?: number;
}

/**
 * What the student learns from, in a distillation run:
 *   sft       — cross-entropy on the teacher's sampled answers (the text only);
 *   kd        — forward KL to the teacher's top-k token distributions at every answer token,
 *               captured while the teacher generated (knowledge / context distillation);
 *   on-policy — the student samples its own answers and matches the teacher's distribution on
 *               them (per-token reverse KL), optionally plus kd (kdWeight).
 */
export const TRAINING_OBJECTIVES = ['sft', 'kd', 'on-policy'] as const;
export type TrainingObjective = (typeof TRAINING_OBJECTIVES)[number];

/** What each objective does, in a sentence a researcher can decide by (the app, the report). */
export const TRAINING_OBJECTIVE_INFO: Readonly<Record<TrainingObjective, { label: string; text: string }>> = {
  sft: {
    label: 'SFT on the teacher’s answers',
    text: 'Cross-entropy on the answers the teacher sampled: learns from their text only, one token per position. With a few dozen answers it can move the student away from the teacher.',
  },
  kd: {
    label: 'Knowledge distillation (kd)',
    text: 'Matches the teacher’s whole next-token distribution (its top-k log-probabilities, captured while it answered) at every answer token: far more signal per answer, no second teacher pass.',
  },
  'on-policy': {
    label: 'On-policy distillation',
    text: 'The student answers on its own, without the prompt; the teacher, with the prompt, scores every token, and the student minimises the per-token reverse KL. Slower per step (it samples); fixes what the student itself gets wrong.',
  },
};

/** The objective every scale trains with unless a run names another (README, "Choosing the objective"). */
export const DEFAULT_OBJECTIVE: TrainingObjective = 'kd';
/** Why, in words the report and the Training page show; the figures are the README's measurement. */
export const DEFAULT_OBJECTIVE_REASON =
  'measured side by side at mini scale on one run (the same 78 teacher answers, LoRA and 40 steps each), sft moved the student away from the teacher (captured below 0: its per-token KL to the teacher rose above the untrained base’s), while kd and on-policy each closed about two thirds of the gap, with intervals that overlap each other and not sft’s. kd is the cheaper of the two: its distributions are captured while the teacher answers, and a kd step costs about what an sft step does, where on-policy samples the student’s answers at every step.';

export interface TrainingConfig {
  baseModel: string;
  objective: TrainingObjective;
  /** on-policy only: weight of the kd loss on the teacher's answers added to the reverse KL (0 = none). */
  kdWeight: number;
  loraR: number;
  loraAlpha: number;
  loraDropout: number;
  targetModules: string[];
  learningRate: number;
  warmupSteps: number;
  schedule: 'linear' | 'cosine' | 'constant';
  batchSize: number;
  gradAccum: number;
  maxSteps: number;
  maxLength: number;
  evalEvery: number;
  saveEvery: number;
  seed: number;
}

export interface TrainingJobSummary {
  id: string;
  runId: string;
  status: RunStatus;
  config: TrainingConfig;
  step: number;
  totalSteps: number;
  tokensPerS: number | null;
  etaSeconds: number | null;
}

export interface CheckpointRow {
  id: string;
  runId: string;
  step: number;
  path: string;
  createdAt: string;
  state: 'candidate' | 'promoted' | 'archived';
  metrics: Record<string, number>;
  lineage: {
    personaId: string;
    personaVersion: number;
    dataHash: string;
    config: TrainingConfig;
    /** A merged adapter's parents (the character recipe's paper mode), with their weights. */
    parents?: LineageParent[];
    /** An adapter pulled from Tinker: the tinker:// checkpoint it was downloaded from. */
    pulledFrom?: string;
  };
}

/**
 * A checkpoint as the registry lists it: with where it stands. current: the top of the promoted
 * stack (what Promote and Rollback move); active: what chat, sample and serve-model use (the one
 * `checkpoint use` chose, else the current one). Every page and the CLI read these two flags from
 * the registry instead of guessing from `state` (the last three promoted all read 'promoted').
 */
export interface CheckpointListRow extends CheckpointRow {
  current: boolean;
  active: boolean;
}

export type ModelRole = 'student' | 'teacher' | 'base';

/**
 * How a chat reply is sampled. temperature 0 is greedy; seed null draws a new seed per reply.
 * repetitionPenalty (>= 1, 1 = off) and noRepeatNgram (0 = off) keep small models out of loops.
 */
export interface ChatSampling {
  temperature: number;
  topP: number;
  maxTokens: number;
  seed: number | null;
  repetitionPenalty: number;
  noRepeatNgram: number;
}

/**
 * Chat's defaults: a little temperature so replies are not canned, 160 new tokens, a new seed per
 * reply, and the anti-loop setting chosen by measurement (README, "Chat sampling"): on 48 held-out
 * questions the character (the embedded model with the constitution) looped in 7 answers with
 * plain sampling, 0 with a repetition penalty of 1.15; the distilled student in 3 and 0.
 */
export const DEFAULT_CHAT_SAMPLING: Readonly<ChatSampling> = {
  temperature: 0.7,
  topP: 0.9,
  maxTokens: 160,
  seed: null,
  repetitionPenalty: 1.15,
  noRepeatNgram: 0,
};

export interface EvaluationItemRow {
  questionId: number;
  category: string;
  question: string;
  answers: Record<ModelRole, string>;
  inCharacter: Record<ModelRole, number>;
  similarityToTeacher: {
    student: { difflib: number; cosine: number };
    base: { difflib: number; cosine: number };
  };
}

/** A 95% interval (percentile bootstrap over the evaluated answers, 2000 resamples, seeded). */
export interface Interval {
  low: number;
  high: number;
}

/**
 * How close the student is to the teacher, per answer token, on the teacher's own held-out
 * answers: KL(teacher WITH the constitution ‖ model WITHOUT it) over the full vocabulary, in nats,
 * for the trained student and the untrained base; captured = 1 − KL_student / KL_base (1: the
 * student is the teacher; 0: no closer than the base; below 0: further away).
 */
export interface DistillationMetrics {
  answers: number;
  tokens: number;
  klStudent: number;
  klBase: number;
  captured: number;
  /** Mean negative log-likelihood per token of the teacher's answers, under each model. */
  nll: Record<ModelRole, number>;
  intervals: { klStudent: Interval; klBase: Interval; captured: Interval };
}

/** 95% intervals of the per-answer rates (null in evaluations made before intervals existed). */
export interface RateIntervals {
  inCharacterShare: Record<ModelRole, Interval>;
  keywordPresence: Record<ModelRole, Interval>;
  capability: Record<'student' | 'base', Interval>;
  safety: Record<'student' | 'base', Interval>;
  /** The student's in-character share as a fraction of the teacher's (paired by question). */
  inCharacterVsTeacher: { value: number; interval: Interval };
}

export interface EvaluationSummary {
  runId: string;
  checkpointId: string | null;
  n: number;
  inCharacterShare: Record<ModelRole, number>;
  difflib: { student: number; base: number };
  cosine: { student: number; base: number };
  keywordPresence: Record<ModelRole, number>;
  valLoss: number | null;
  perplexity: number | null;
  capability: Record<ModelRole, number>;
  safety: Record<ModelRole, number>;
  elo: Record<ModelRole, number> | null;
  /** null when the teacher is not a local model (no distributions to compare) or before it existed. */
  distillation: DistillationMetrics | null;
  intervals: RateIntervals | null;
  gate: { passed: boolean; score: string; student: number; base: number; reasons: string[] };
  /** Revealed-preference Elo over traits, per model (absent in evaluations made before it existed). */
  revealedPreferences?: RevealedPreferencesSummary | null;
  /** The character recipe's stages (DPO, SFT, merged), each measured like the student. */
  stages?: StageMetrics[];
  /** How the character holds: identity, break-character and multi-turn (absent before it existed). */
  robustness?: RobustnessSummary | null;
}

export interface SavingsSummary {
  promptTokensTeacher: number;
  promptTokensStudent: number;
  tokenReduction: number; // 0..1
  ttftMsTeacher: number;
  ttftMsStudent: number;
  latencyMsTeacher: number;
  latencyMsStudent: number;
  latencyRatio: number; // teacher / student
  costPerMillionTeacher: number;
  costPerMillionStudent: number;
  paybackQueries: number | null;
}

export const REVIEW_DIMENSIONS = [
  'characterConsistency',
  'historicalAccuracy',
  'emotionalAuthenticity',
  'speechPatterns',
] as const;
export type ReviewDimension = (typeof REVIEW_DIMENSIONS)[number];
/** How a dimension is named on the sheet, on screen and in manual_review.txt. */
export const REVIEW_DIMENSION_LABELS: Readonly<Record<ReviewDimension, string>> = {
  characterConsistency: 'Character consistency',
  historicalAccuracy: 'Historical accuracy',
  emotionalAuthenticity: 'Emotional authenticity',
  speechPatterns: 'Speech patterns',
};

export interface ReviewItem {
  id: number;
  sheetId: string;
  position: number; // 0..49
  category: string;
  question: string;
  answer: string;
  /** Hidden from the renderer in blind mode until the sheet is un-blinded. */
  source: ModelRole | null;
  ratings: Partial<Record<ReviewDimension, number>>; // 1..5
  note: string;
}

export interface ReviewSheet {
  id: string;
  runId: string;
  blind: boolean;
  items: ReviewItem[];
}

/** A sheet as the Review page and `character review list` show it, without its items. */
export interface ReviewSheetInfo {
  id: string;
  runId: string;
  blind: boolean;
  unblinded: boolean;
  createdAt: string;
  rated: number;
  total: number;
}

export interface ReviewSummary {
  sheetId: string;
  rated: number;
  total: number;
  meanByDimension: Record<ReviewDimension, number | null>;
  /** Share of items whose every rating is >= 4, per source once un-blinded. */
  passRateBySource: Partial<Record<ModelRole, number>>;
  target: number; // 0.9
  /** null while a blind sheet hides its sources: the student's pass rate is unknown then. */
  meetsTarget: boolean | null;
}

export interface ChatTurn {
  role: 'user' | 'assistant';
  content: string;
  promptTokens?: number;
  completionTokens?: number;
  latencyMs?: number;
  ttftMs?: number;
}

export interface ChatSession {
  id: string;
  checkpointId: string | null;
  withTeacher: boolean;
  turns: ChatTurn[];
}
