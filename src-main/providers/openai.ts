/**
 * A teacher behind any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, LM Studio, llama.cpp):
 * items answered with bounded concurrency through the shared OpenAIClient (retries, timeouts,
 * redaction); the first failure stops the batch.
 */
import type { SamplingParams } from '../../src-shared/engine-protocol';
import { ProviderError } from './errors';
import { OpenAIClient, type OpenAIClientOptions } from './openai-client';
import { isReasoningEffort, splitThinking, type ReasoningEffort } from './thinking';
import type { TeacherGenerateOptions, TeacherItem, TeacherOutput, TeacherProvider } from './types';

export { parseRetryAfter, type RetryInfo } from './openai-client';

const DEFAULT_CONCURRENCY = 4;

export interface OpenAICompatibleOptions extends OpenAIClientOptions {
  model: string;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Sent as `reasoning_effort` when set ("none" turns thinking off on Ollama); omitted otherwise. */
  reasoningEffort?: ReasoningEffort;
}

function countOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

export class OpenAICompatibleProvider implements TeacherProvider {
  readonly name = 'openai';
  /** Chat completions give at most 20 top log-probs per token, as text: not the ids kd needs. */
  readonly capturesDistributions = false;
  readonly model: string;
  private readonly client: OpenAIClient;
  private readonly concurrency: number;
  private readonly reasoningEffort: ReasoningEffort | undefined;

  constructor(options: OpenAICompatibleOptions) {
    this.client = new OpenAIClient({ ...options, name: 'openai' });
    if (!options.model.trim())
      throw new ProviderError('OpenAI-compatible provider needs a model', 'config', 'openai');
    this.model = options.model;
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));
    if (options.reasoningEffort !== undefined && !isReasoningEffort(options.reasoningEffort))
      throw new ProviderError(
        `reasoningEffort must be one of none, minimal, low, medium, high, not ${JSON.stringify(options.reasoningEffort)}`,
        'config',
        'openai',
      );
    this.reasoningEffort = options.reasoningEffort;
  }

  async generate(
    items: TeacherItem[],
    sampling: SamplingParams,
    opts: TeacherGenerateOptions = {},
  ): Promise<TeacherOutput[]> {
    if (opts.captureTopK)
      throw new ProviderError(
        'an OpenAI-compatible teacher cannot give the token distributions kd needs: train with sft or on-policy, or use a local teacher',
        'config',
        this.name,
      );
    const results: TeacherOutput[] = new Array<TeacherOutput>(items.length);
    const total = items.length;
    let next = 0;
    let done = 0;
    // First failure stops the siblings: they see this signal and give up.
    const stop = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
    let firstError: unknown = null;
    const worker = async (): Promise<void> => {
      while (next < total && firstError === null) {
        const index = next++;
        try {
          results[index] = await this.complete(items[index] as TeacherItem, sampling, signal);
        } catch (e) {
          if (firstError === null) firstError = e;
          stop.abort();
          return;
        }
        done += 1;
        opts.onProgress?.({ done, total, fraction: done / total });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, total) }, () => worker()));
    if (firstError !== null) throw firstError;
    return results;
  }

  /** One item; `signal` fires on the caller's cancel or a sibling's failure. */
  private async complete(
    item: TeacherItem,
    sampling: SamplingParams,
    signal: AbortSignal,
  ): Promise<TeacherOutput> {
    const messages = [
      ...(item.system !== undefined ? [{ role: 'system', content: item.system }] : []),
      ...item.messages,
    ];
    const reply = await this.client.chat(
      {
        model: this.model,
        messages,
        temperature: sampling.temperature,
        top_p: sampling.top_p,
        max_tokens: sampling.max_new_tokens,
        seed: sampling.seed,
        ...(this.reasoningEffort ? { reasoning_effort: this.reasoningEffort } : {}),
      },
      signal,
    );
    const choice = reply.completion.choices[0];
    const reason = choice?.finish_reason;
    // Reasoning inline in the text, or beside it in a field of its own: either way, it was thought.
    const { text, thinking } = splitThinking(reply.text);
    const separate = choice?.message.reasoning_content ?? choice?.message.reasoning;
    return {
      text,
      thinking: thinking || (typeof separate === 'string' && separate.trim() !== ''),
      promptTokens: countOrNull(reply.completion.usage?.prompt_tokens),
      completionTokens: countOrNull(reply.completion.usage?.completion_tokens),
      latencyMs: reply.latencyMs,
      ttftMs: null,
      finishReason: reason === 'length' ? 'length' : reason === 'stop' ? 'stop' : null,
    };
  }
}
