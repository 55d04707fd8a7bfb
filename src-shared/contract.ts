/**
 * The one contract between the renderer and the main process. Imported as types by
 * src-main (IPC handlers and the loopback bridge), src-preload and src-renderer.
 *
 * Requests: `invoke(channel, params) -> Promise<result>`; events: a separate map pushed
 * from main to every window (and to loopback-bridge subscribers over server-sent events).
 * Field names are camelCase (TypeScript on both sides).
 */

import type { ModalGpu } from './modal-gpus';
import type { ImportedFile, ImportFormat, ImportSummary, ImportUse } from './data-import';
import type { RobustnessSummary } from './robustness';
import type {
  CharacterRecipeOptions,
  ConstitutionDraft,
  DraftProgress,
  IntrospectionEstimate,
  LineageParent,
  RevealedPreferencesSummary,
  SmokeChoice,
  SmokePassResult,
  StageMetrics,
} from './character';

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

/** Request/response channels: params and result of each. */
export interface ApiContract {
  'app:info': {
    params: void;
    result: { version: string; dataDir: string; engine: string; electron: boolean };
  };
  'personas:list': { params: void; result: PersonaSummary[] };
  'personas:get': { params: { id: string }; result: PersonaDetail };
  'personas:validate': {
    params: { source: string; format: 'yaml' | 'text' };
    result: { issues: ValidationIssue[]; wordCount: number; tokenCount: number | null };
  };
  /**
   * Refused with code 'conflict' when the constitution's id is a built-in's, unless
   * newVersionOfBuiltIn confirms it is meant as that built-in's next version.
   */
  'personas:save': {
    params: { source: string; format: 'yaml' | 'text'; newVersionOfBuiltIn?: boolean };
    result: PersonaSummary;
  };
  'runs:list': { params: void; result: RunSummary[] };
  'runs:get': { params: { id: string }; result: RunSummary };
  /**
   * With data, the run takes its questions from an imported file (data:imports), and with use
   * 'teacher' its teacher answers too (the generate step then reads them instead of asking a teacher).
   */
  'runs:create': {
    params: {
      personaId: string;
      scale: Scale;
      data?: { path: string; use: ImportUse };
      /** Where it trains (default local); tinker: the models as Tinker names them (default: hub ids). */
      backend?: 'local' | 'tinker';
      tinker?: { baseModel?: string; teacherModel?: string };
    };
    result: RunSummary;
  };
  'runs:estimate': {
    params: { runId: string; step: PipelineStep };
    result: { seconds: number; tokens: number; costUsd: number; explanation: string };
  };
  /**
   * Resolves when the step has finished (job:progress / run:status events meanwhile); rejects
   * when it failed. After a step a run is 'pending' (more steps to do) or 'completed'.
   */
  'runs:step': { params: { runId: string; step: PipelineStep }; result: RunSummary };
  'runs:cancel': { params: { runId: string }; result: { cancelled: boolean } };
  /** Resolves once the remaining steps have started ('running'); the outcome arrives as run:status. */
  'runs:resume': { params: { runId: string }; result: RunSummary };
  'data:examples': {
    params: { runId: string; category?: string; flag?: string; offset: number; limit: number };
    result: { rows: TeacherExampleRow[]; total: number; categories: string[]; flags: string[] };
  };
  'data:audit': { params: { runId: string }; result: AuditSummary | null };
  /**
   * Imports a local file (an absolute path) of question -> answer pairs into <data folder>/imports
   * as chat JSONL. format is detected when absent; character is required for Character-LLM files.
   * An earlier import of the same name is replaced only with force (else code 'conflict'); a file
   * that gives no pair writes nothing (code 'invalid_input', as do malformed files, with the line).
   */
  'data:import': {
    params: { path: string; format?: ImportFormat; character?: string; force?: boolean };
    result: ImportSummary;
  };
  'data:imports': { params: void; result: ImportedFile[] };
  /** The scale's defaults; with runId, that run's stored config (its own student as baseModel). */
  'training:defaults': { params: { scale: Scale; runId?: string }; result: TrainingConfig };
  /**
   * Saves the config in the run and starts its train step in the background; resolves at once
   * with the job (status 'pending' and an empty id until the step has created it).
   */
  'training:start': {
    params: { runId: string; config: TrainingConfig; character?: CharacterRecipeOptions };
    result: TrainingJobSummary;
  };
  /** The run's recipe and, for the character recipe, its options and the introspection it will generate. */
  'training:recipe': {
    params: { runId: string };
    result: {
      recipe: string;
      character: CharacterRecipeOptions | null;
      estimate: IntrospectionEstimate | null;
    };
  };
  /** The small and/or large smoke passes of a run's settings (tiny data, a few steps), end to end. */
  'runs:smoke': {
    params: { runId: string; which: SmokeChoice };
    result: { ok: boolean; passes: SmokePassResult[] };
  };
  /** A structured constitution drafted by a model (the local engine or the OpenAI-compatible endpoint). */
  'personas:draft': {
    params: { name: string; about: string; provider?: 'local' | 'openai' };
    result: ConstitutionDraft;
  };
  'training:status': { params: { runId: string }; result: TrainingJobSummary | null };
  'training:metrics': { params: { runId: string; sinceStep: number }; result: MetricPoint[] };
  'training:cancel': { params: { runId: string }; result: { cancelled: boolean } };
  'checkpoints:list': { params: { runId?: string }; result: CheckpointListRow[] };
  'checkpoints:promote': { params: { id: string }; result: CheckpointListRow };
  'checkpoints:rollback': { params: void; result: CheckpointListRow | null };
  /**
   * The PEFT adapter with its card, deploy example, GGUF LoRA and Modelfile; merged adds the
   * merged model (safetensors + GGUF). A non-empty outputDir is refused (conflict) unless overwrite.
   */
  'checkpoints:export': {
    params: { id: string; outputDir?: string; merged?: boolean; overwrite?: boolean };
    result: { dir: string; files: string[]; mergedDir: string | null; modelfile: string | null };
  };
  /**
   * The checkpoint's merged model exported with modal_app.py beside it (vLLM on the chosen GPU
   * behind an OpenAI-compatible endpoint) and the commands that deploy it; nothing reaches Modal.
   */
  'checkpoints:deployModal': {
    params: { id: string; gpu: ModalGpu; outputDir?: string };
    result: {
      dir: string;
      appFile: string;
      gpu: ModalGpu;
      modalGpu: string;
      servedModelName: string;
      commands: string[];
      usdPerHour: number;
      priceNote: string;
    };
  };
  'evaluation:get': {
    params: { runId: string };
    result: { summary: EvaluationSummary; items: EvaluationItemRow[]; savings: SavingsSummary | null } | null;
  };
  'review:create': { params: { runId: string; blind: boolean }; result: ReviewSheet };
  'review:get': { params: { sheetId: string }; result: ReviewSheet };
  /** The run's sheets, newest first: a half-rated sheet is found again in any browser. */
  'review:list': { params: { runId: string }; result: ReviewSheetInfo[] };
  'review:rate': {
    params: { itemId: number; dimension: ReviewDimension; value: number };
    result: ReviewItem;
  };
  'review:note': { params: { itemId: number; note: string }; result: ReviewItem };
  'review:summary': { params: { sheetId: string; unblind: boolean }; result: ReviewSummary };
  'review:export': { params: { sheetId: string }; result: { csvPath: string; txtPath: string } };
  'chat:start': { params: { checkpointId: string | null; withTeacher: boolean }; result: ChatSession };
  /**
   * Loads the chat's model (and adapter; the teacher lane's too when side by side) so the first
   * message does not wait for it: the Chat page calls it when it opens. loadMs: how long it took.
   */
  'chat:warm': {
    params: { checkpointId: string | null; withTeacher: boolean };
    result: { checkpointId: string | null; withTeacher: boolean; loadMs: number };
  };
  /** Streams `chat:token` events; resolves with the finished turns (student, and teacher when side by side). */
  'chat:send': {
    params: { sessionId: string; text: string; sampling?: Partial<ChatSampling> };
    result: { student: ChatTurn; teacher: ChatTurn | null };
  };
  'report:get': { params: { runId: string }; result: { markdown: string; path: string } | null };
}

export type ApiChannel = keyof ApiContract;
export type ApiParams<C extends ApiChannel> = ApiContract[C]['params'];
export type ApiResult<C extends ApiChannel> = ApiContract[C]['result'];

/** Events pushed from main to the renderer. */
export interface EventContract {
  'run:status': RunSummary;
  'job:progress': {
    runId: string;
    step: PipelineStep;
    done: number;
    total: number;
    fraction: number;
    message?: string;
  };
  'training:metric': { runId: string; point: MetricPoint };
  'training:checkpoint': { runId: string; checkpoint: CheckpointRow };
  'chat:token': { sessionId: string; role: 'student' | 'teacher'; text: string };
  /** "Draft with a model": which stage the draft is in (a 135M model takes minutes). */
  'personas:draftProgress': DraftProgress;
}

export type EventChannel = keyof EventContract;

/** An error as it crosses the boundary: a typed code plus a human message. */
/**
 * Every error code that crosses to the renderer. The main process raises StudioErrors with
 * these (src-main/core/errors.ts); the bridge maps each to an HTTP status by table
 * (src-main/handlers/errors.ts). Engine and provider codes pass through unchanged.
 */
export const ERROR_CODES = [
  // the app's own
  'internal',
  'invalid_params',
  'config',
  'invalid_input',
  'usage',
  'not_found',
  'unknown_channel',
  'conflict',
  'step_order',
  'cancelled',
  'pipeline',
  'io',
  'store',
  'judge',
  // the transports (loopback bridge, Electron IPC, the renderer's client)
  'bad_request',
  'too_large',
  'method_not_allowed',
  'unauthorized',
  'forbidden_host',
  'forbidden_origin',
  'forbidden_sender',
  'transport',
  'no_backend',
  // the engine (EngineErrorCode) and its client
  'unknown_method',
  'model_not_found',
  'model_load_failed',
  'unsupported_architecture',
  'corrupt_file',
  'download_failed',
  'upload_failed',
  'remote_failed',
  'out_of_memory',
  'engine_exited',
  'spawn_failed',
  'protocol_error',
  'timeout',
  // teacher and judge endpoints
  'http_error',
  'rate_limited',
  'bad_response',
  'network',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

export interface ApiErrorPayload {
  code: ErrorCode;
  message: string;
  detail?: Record<string, unknown>;
}

/**
 * The API the renderer codes against (src-renderer/src/api exports it as `api`): over Electron IPC
 * (window.studio, see StudioBridge) or, in a plain browser, over the loopback bridge.
 * invoke rejects with an error carrying the ApiErrorPayload's code.
 */
export interface StudioApi {
  invoke<C extends ApiChannel>(channel: C, params: ApiParams<C>): Promise<ApiResult<C>>;
  on<E extends EventChannel>(event: E, listener: (payload: EventContract[E]) => void): () => void;
}

/**
 * Every request channel at run time: the preload and the loopback bridge refuse anything else.
 * The two checks below fail to compile when a channel is added to ApiContract but not here
 * (or listed here but missing from ApiContract).
 */
export const API_CHANNELS = [
  'app:info',
  'personas:list',
  'personas:get',
  'personas:validate',
  'personas:save',
  'personas:draft',
  'runs:list',
  'runs:get',
  'runs:create',
  'runs:estimate',
  'runs:step',
  'runs:cancel',
  'runs:resume',
  'runs:smoke',
  'data:examples',
  'data:audit',
  'data:import',
  'data:imports',
  'training:defaults',
  'training:start',
  'training:status',
  'training:metrics',
  'training:cancel',
  'training:recipe',
  'checkpoints:list',
  'checkpoints:promote',
  'checkpoints:rollback',
  'checkpoints:export',
  'checkpoints:deployModal',
  'evaluation:get',
  'review:create',
  'review:get',
  'review:list',
  'review:rate',
  'review:note',
  'review:summary',
  'review:export',
  'chat:start',
  'chat:warm',
  'chat:send',
  'report:get',
] as const satisfies readonly ApiChannel[];

/** Every event name at run time (same compile-time coverage check as API_CHANNELS). */
export const EVENT_CHANNELS = [
  'run:status',
  'job:progress',
  'training:metric',
  'training:checkpoint',
  'chat:token',
  'personas:draftProgress',
] as const satisfies readonly EventChannel[];

type MissingApiChannel = Exclude<ApiChannel, (typeof API_CHANNELS)[number]>;
type MissingEventChannel = Exclude<EventChannel, (typeof EVENT_CHANNELS)[number]>;
export const API_CHANNELS_COMPLETE: [MissingApiChannel] extends [never] ? true : MissingApiChannel = true;
export const EVENT_CHANNELS_COMPLETE: [MissingEventChannel] extends [never] ? true : MissingEventChannel =
  true;

export function isApiChannel(value: unknown): value is ApiChannel {
  return typeof value === 'string' && (API_CHANNELS as readonly string[]).includes(value);
}

export function isEventChannel(value: unknown): value is EventChannel {
  return typeof value === 'string' && (EVENT_CHANNELS as readonly string[]).includes(value);
}

/**
 * One reply on the wire, for both transports (Electron IPC and the loopback bridge): errors
 * travel as data because Electron's contextBridge drops an Error's custom fields (its code).
 */
export type ApiResponse<C extends ApiChannel> =
  { ok: true; result: ApiResult<C> } | { ok: false; error: ApiErrorPayload };

/**
 * What the preload really exposes as window.studio: invoke resolves with the envelope above.
 * src-renderer/src/api turns it into a StudioApi (results, or a thrown ApiError).
 */
export interface StudioBridge {
  invoke<C extends ApiChannel>(channel: C, params: ApiParams<C>): Promise<ApiResponse<C>>;
  on<E extends EventChannel>(event: E, listener: (payload: EventContract[E]) => void): () => void;
}
