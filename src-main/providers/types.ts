/**
 * A teacher provider answers many chat items: the local engine, or any OpenAI-compatible
 * endpoint (vLLM, llama.cpp server, Ollama, a hosted API). The teacher-data step codes against
 * this interface only.
 */
import type { ChatMessage, GenerateOutput, SamplingParams } from '../../src-shared/engine-protocol';

export type { ChatMessage, SamplingParams };

export interface TeacherItem {
  /** The constitution (system prompt); absent for a student-style call. */
  system?: string;
  messages: ChatMessage[];
  /** With TeacherGenerateOptions.captureTopK: where this answer's token distributions go. */
  topkPath?: string;
}

export interface TeacherOutput {
  text: string;
  /**
   * Prompt and completion tokens as the model counted them (the engine's tokenizer, or the
   * endpoint's `usage`). null when an endpoint did not report usage: never estimated.
   */
  promptTokens: number | null;
  completionTokens: number | null;
  /** Wall time of the request (remote) or of the item's batch (local engine), in ms. */
  latencyMs: number;
  /** Time to first token in ms, when measured (local engine); null otherwise. */
  ttftMs: number | null;
  finishReason: 'stop' | 'length' | null;
  /** The model reasoned before answering (removed from `text`; see thinking.ts). */
  thinking?: boolean;
  /** Rows of token distributions written to the item's topkPath (captured answers only). */
  topkTokens?: number;
}

/** An engine answer (local, or Tinker's, which has no time to first token) as a teacher output. */
export function teacherOutputOf(
  o: Omit<GenerateOutput, 'ttft_ms'> & { ttft_ms: number | null },
): TeacherOutput {
  return {
    text: o.text,
    promptTokens: o.prompt_tokens,
    completionTokens: o.completion_tokens,
    latencyMs: o.total_ms,
    ttftMs: o.ttft_ms,
    finishReason: o.finish_reason,
    ...(o.topk_tokens !== undefined ? { topkTokens: o.topk_tokens } : {}),
  };
}

export interface TeacherProgress {
  done: number;
  total: number;
  /** done / total, 0..1. */
  fraction: number;
}

export interface TeacherGenerateOptions {
  signal?: AbortSignal;
  /**
   * Write the teacher's top-k next-token log-probabilities at every answer token to each item's
   * topkPath (knowledge distillation). Only a provider with capturesDistributions does.
   */
  captureTopK?: number;
  onProgress?: (progress: TeacherProgress) => void;
}

export interface TeacherProvider {
  /** Kind of provider, e.g. "local" or "openai". */
  readonly name: string;
  /** The model it runs, as shown to the user and stored with every example. */
  readonly model: string;
  /** Whether it can write the teacher's token distributions (captureTopK): the local engine can. */
  readonly capturesDistributions: boolean;
  /** Answers in the order of `items`. Rejects with the first failure (ProviderError / EngineError). */
  generate(
    items: TeacherItem[],
    sampling: SamplingParams,
    opts?: TeacherGenerateOptions,
  ): Promise<TeacherOutput[]>;
  /** Chat-template prompt tokens per item, when the provider can count them locally. */
  countTokens?(items: TeacherItem[]): Promise<number[]>;
}
