/**
 * A teacher behind any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, LM Studio, llama.cpp):
 * items answered with bounded concurrency through the shared OpenAIClient (retries, timeouts,
 * redaction); the first failure stops the batch.
 */
import type { SamplingParams } from '../../src-shared/engine-protocol';
import { ProviderError } from './errors';
import { OpenAIClient, type OpenAIClientOptions } from './openai-client';
import type { TeacherGenerateOptions, TeacherItem, TeacherOutput, TeacherProvider } from './types';

export { parseRetryAfter, type RetryInfo } from './openai-client';

const DEFAULT_CONCURRENCY = 4;

export interface OpenAICompatibleOptions extends OpenAIClientOptions {
  model: string;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
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

  constructor(options: OpenAICompatibleOptions) {
    this.client = new OpenAIClient({ ...options, name: 'openai' });
    if (!options.model.trim())
      throw new ProviderError('OpenAI-compatible provider needs a model', 'config', 'openai');
    this.model = options.model;
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));
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
      },
      signal,
    );
    const choice = reply.completion.choices[0];
    const reason = choice?.finish_reason;
    return {
      text: reply.text,
      promptTokens: countOrNull(reply.completion.usage?.prompt_tokens),
      completionTokens: countOrNull(reply.completion.usage?.completion_tokens),
      latencyMs: reply.latencyMs,
      ttftMs: null,
      finishReason: reason === 'length' ? 'length' : reason === 'stop' ? 'stop' : null,
    };
  }
}
