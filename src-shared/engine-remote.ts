/**
 * The engine methods that reach beyond this machine (engine/PROTOCOL.md, Tinker): training and
 * sampling on Tinker through its SDK, and a served (OpenAI-compatible) teacher's logprobs turned
 * into teacher top-k files. Part of the engine contract; engine-protocol.ts re-exports it.
 */
import type {
  CaptureTopK,
  GenerateOutput,
  GenerateRequestItem,
  ModelSpec,
  SamplingParams,
  TrainDpoParams,
  TrainKdParams,
  TrainOnPolicyParams,
  TrainResult,
  TrainSftParams,
} from './engine-base';

/**
 * Where a Tinker method runs (engine/PROTOCOL.md, Tinker): the models as Tinker names them and
 * how to reach it. The API key travels only in this object and is never logged or stored.
 */
export interface TinkerTarget {
  /** The student's base, e.g. "Qwen/Qwen3-4B-Instruct-2507" (tinker_train; tinker_generate's default teacher). */
  base_model?: string;
  /** The teacher, when another model (tinker_generate, on_policy); it must share the student's tokenizer. */
  teacher_model?: string;
  /** Absent: the SDK's own lookup (TINKER_API_KEY in the engine's environment). */
  api_key?: string;
  base_url?: string;
}

/** tinker_train: one objective's parameters (as train_sft/train_dpo/train_kd/train_on_policy) on Tinker. */
export type TinkerTrainParams = (
  | ({ objective: 'sft' } & TrainSftParams)
  | ({ objective: 'kd' } & TrainKdParams)
  | ({ objective: 'dpo' } & TrainDpoParams)
  | ({ objective: 'on_policy' } & TrainOnPolicyParams)
) & { tinker: TinkerTarget };

/** One checkpoint the Tinker service holds for this API key. */
export interface TinkerCheckpoint {
  tinker_path: string;
  type: 'training' | 'sampler' | 'external';
  checkpoint_id: string;
  run_id: string;
  time: string;
  size_bytes: number | null;
  /** What tinker_train saved with it: kind, step, total_steps, epoch, data_hash, last_loss, base_model. */
  metadata: Record<string, string>;
}

export type TinkerTrainResult = TrainResult & {
  remote_checkpoint: string;
  /**
   * LoRA alpha: the run's, and the one Tinker applies (32, as the cookbook assumes; the SDK takes
   * none). Not sent: the same learning rate steps tinker / run times as far as a local run.
   */
  lora_alpha: { run: number; tinker: number; sent: false };
};

/** generate's items and sampling on a Tinker model; top-k (k <= 20) captured as generate captures it. */
export interface TinkerGenerateParams {
  tinker: TinkerTarget;
  items: GenerateRequestItem[];
  sampling: SamplingParams;
  capture_topk?: CaptureTopK;
}

export interface TinkerGenerateResult {
  /** ttft_ms is null: the SDK reports no first-token time. */
  /** topk_missing: why this answer has no top-k file (Tinker returned short or no rows); kd skips it. */
  outputs: (Omit<GenerateOutput, 'ttft_ms'> & { ttft_ms: number | null; topk_missing?: string })[];
  tokens_per_s: number;
  wall_ms: number;
}

/** A training (weights/) or external checkpoint downloaded as a PEFT adapter folder (with tinker.json). */
export interface TinkerPullParams {
  tinker: TinkerTarget;
  tinker_path: string;
  output_dir: string;
}

export interface TinkerPullResult {
  output_dir: string;
  tinker_path: string;
  files: string[];
}

/**
 * An OpenAI-compatible teacher's logprobs (chat completions' logprobs.content, top_logprobs k)
 * written as teacher top-k files with `model`'s tokenizer (the student's): kd from vLLM or SGLang.
 */
export interface TopkFromLogprobsParams {
  model: ModelSpec;
  k: number;
  files: {
    path: string;
    tokens: { token: string; logprob: number; bytes?: number[] | null; top_logprobs?: unknown[] }[];
    prompt_tokens?: number;
    /** The answer's text: names the answer's own tokens where the logprobs name them lossily. */
    text?: string;
  }[];
  metadata?: Record<string, string | number>;
}

export interface TopkFromLogprobsResult {
  /**
   * unreliable_positions: positions whose teacher distribution cannot be known (partial UTF-8
   * named by a lossy string and no token id), marked in the file and left out of kd. rows 0 with
   * unreliable_positions > 0: the answer's own tokens could not all be named (partial
   * UTF-8 named by a lossy string and no token id): no file was written, kd leaves it out.
   */
  files: { path: string; rows: number; unreliable_positions: number }[];
}

/**
 * An export folder holding the merged model (export_adapter with merged) -> modal_app.py beside
 * it: vLLM on Modal behind an OpenAI-compatible endpoint. Nothing is sent to Modal.
 */
export interface ExportModalParams {
  output_dir: string;
  gpu: 'T4' | 'L4' | 'A10G' | 'A100' | 'H100';
  /** Modal's app name: letters, digits, '-', '_', '.' (at most 64). */
  app_name: string;
  /** The model name clients send (one word). */
  served_model_name: string;
}

export interface ExportModalResult {
  app_file: string;
  app_name: string;
  gpu: ExportModalParams['gpu'];
  /** As Modal names it (A100 is A100-80GB). */
  modal_gpu: string;
  served_model_name: string;
  merged_dir: string;
  /** What the user runs to deploy it (a secret with the API key, then modal deploy). */
  commands: string[];
}
