/**
 * What a generation job will cost before it runs: tokens, dollars, and seconds when a measured
 * throughput is known. Prices are per million tokens (USD); a local engine costs 0.
 */

export interface GenerationEstimateInput {
  /** Number of items (questions) to answer. */
  count: number;
  /** Mean prompt tokens per item (system prompt + question through the chat template). */
  promptTokens: number;
  /** Upper bound of generated tokens per item. */
  maxNewTokens: number;
  /** Measured generation throughput in new tokens per second (batched); null/absent if unknown. */
  tokensPerSecond?: number | null;
  pricePerMillionInput: number;
  pricePerMillionOutput: number;
}

export interface GenerationEstimate {
  /** Upper bound (every item uses max_new_tokens); null when no throughput was measured. */
  seconds: number | null;
  /** Input + output tokens. */
  tokens: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  explanation: string;
}

const PER_MILLION = 1_000_000;

export function estimateGeneration(input: GenerationEstimateInput): GenerationEstimate {
  const count = Math.max(0, input.count);
  const inputTokens = count * Math.max(0, input.promptTokens);
  const outputTokens = count * Math.max(0, input.maxNewTokens);
  const costUsd =
    (inputTokens / PER_MILLION) * input.pricePerMillionInput +
    (outputTokens / PER_MILLION) * input.pricePerMillionOutput;
  const tps = input.tokensPerSecond;
  const seconds = tps && tps > 0 ? outputTokens / tps : null;
  const explanation =
    `${count} items x (${input.promptTokens} prompt + up to ${input.maxNewTokens} new tokens) = ` +
    `${inputTokens + outputTokens} tokens; $${costUsd.toFixed(4)} at $${input.pricePerMillionInput}/M in, ` +
    `$${input.pricePerMillionOutput}/M out; ` +
    (seconds === null
      ? 'time unknown (no measured throughput)'
      : `about ${Math.round(seconds)} s at a measured ${Math.round(tps ?? 0)} tokens/s (upper bound)`);
  return { seconds, tokens: inputTokens + outputTokens, inputTokens, outputTokens, costUsd, explanation };
}
