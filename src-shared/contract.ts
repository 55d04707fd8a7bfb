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
import type {
  CharacterRecipeOptions,
  ConstitutionDraft,
  DraftProgress,
  IntrospectionEstimate,
  SmokeChoice,
  SmokePassResult,
} from './character';
import type {
  Scale,
  PipelineStep,
  ValidationIssue,
  PersonaSummary,
  PersonaDetail,
  RunSummary,
  TeacherExampleRow,
  AuditSummary,
  MetricPoint,
  TrainingConfig,
  TrainingJobSummary,
  CheckpointRow,
  CheckpointListRow,
  ChatSampling,
  EvaluationItemRow,
  EvaluationSummary,
  SavingsSummary,
  ReviewDimension,
  ReviewItem,
  ReviewSheet,
  ReviewSheetInfo,
  ReviewSummary,
  ChatTurn,
  ChatSession,
} from './contract-records';

export * from './contract-records';
export * from './pairwise';
import type {
  PairwiseChoice,
  PairwiseItem,
  PairwiseSheet,
  PairwiseSheetInfo,
  PairwiseSummary,
} from './pairwise';

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
  /** A pairwise A/B sheet: up to `pairs` (default 50) held-out questions of the run's latest evaluation. */
  'pairwise:create': { params: { runId: string; pairs?: number }; result: PairwiseSheet };
  'pairwise:get': { params: { sheetId: string }; result: PairwiseSheet };
  /** The run's pairwise sheets, newest first, with how many pairs are judged. */
  'pairwise:list': { params: { runId: string }; result: PairwiseSheetInfo[] };
  /** Saves one judgement at once; null clears it. */
  'pairwise:choose': { params: { itemId: number; choice: PairwiseChoice | null }; result: PairwiseItem };
  'pairwise:summary': { params: { sheetId: string; unblind: boolean }; result: PairwiseSummary };
  /** pairwise_review.csv beside manual_review.csv, and the report's review section brought up to date. */
  'pairwise:export': { params: { sheetId: string }; result: { csvPath: string; reportPath: string | null } };
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
  'pairwise:create',
  'pairwise:get',
  'pairwise:list',
  'pairwise:choose',
  'pairwise:summary',
  'pairwise:export',
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
