/**
 * A teacher behind any OpenAI-compatible endpoint (OpenAI, vLLM, SGLang, Ollama, LM Studio,
 * llama.cpp): items answered with bounded concurrency through the shared OpenAIClient (retries,
 * timeouts, redaction); the first failure stops the batch.
 *
 * With `topLogprobs` (1-20) and a `writeTopk`, it also captures the teacher's distributions for
 * kd: each answer is asked with logprobs + top_logprobs (and vLLM's return_tokens_as_token_ids,
 * so tokens come as ids), and the engine writes them as teacher top-k files with the student's
 * tokenizer (topk_from_logprobs). The endpoint's model must share the student's vocabulary.
 */
import type { SamplingParams } from '../../src-shared/engine-protocol';
import { ProviderError } from './errors';
import { OpenAIClient, type OpenAIClientOptions, type TokenLogprob } from './openai-client';
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
  /** Top log-probs per answer token the endpoint returns (1-20; vLLM: --max-logprobs); 0/absent: none. */
  topLogprobs?: number;
  /**
   * Ask for tokens as "token_id:N" (vLLM's return_tokens_as_token_ids). Default: on, except for
   * hosts known to refuse the field (OpenAI's API answers 400); a server that answers 400 to it is
   * asked again without it, and not asked with it again.
   */
  returnTokenIds?: boolean;
  /** Writes the captured answers' files (the engine's topk_from_logprobs); rows per file. */
  writeTopk?: TopkWriter;
}

/** One answer's logprobs as the endpoint gave them, to become a teacher top-k file. */
export interface EndpointTopk {
  path: string;
  tokens: TokenLogprob[];
  promptTokens: number | null;
  /** The answer's text as the endpoint gave it: it names tokens the logprobs name lossily. */
  text: string;
}

export type TopkWriter = (files: EndpointTopk[], k: number) => Promise<number[]>;

/** Hosts whose API validates every field and refuses return_tokens_as_token_ids (HTTP 400). */
const REFUSES_TOKEN_IDS = new Set(['api.openai.com']);

function acceptsTokenIds(baseUrl: string): boolean {
  try {
    return !REFUSES_TOKEN_IDS.has(new URL(baseUrl).hostname);
  } catch {
    return true;
  }
}

/** OpenAI's chat completions return at most 20 top log-probs per token. */
export const MAX_TOP_LOGPROBS = 20;

function countOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

export class OpenAICompatibleProvider implements TeacherProvider {
  readonly name = 'openai';
  /** With topLogprobs and a writer: the answers' top-k log-probs (at most 20) for kd. */
  readonly capturesDistributions: boolean;
  readonly model: string;
  private readonly client: OpenAIClient;
  private readonly concurrency: number;
  private readonly reasoningEffort: ReasoningEffort | undefined;
  private readonly topLogprobs: number;
  /** Cleared when the server refuses the field (see returnTokenIds): this provider's own state. */
  private returnTokenIds: boolean;
  private readonly writeTopk: TopkWriter | undefined;

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
    const top = Math.floor(options.topLogprobs ?? 0);
    if (!(top >= 0 && top <= MAX_TOP_LOGPROBS))
      throw new ProviderError(
        `topLogprobs must be from 0 to ${MAX_TOP_LOGPROBS}, not ${top}`,
        'config',
        'openai',
      );
    this.topLogprobs = top;
    this.returnTokenIds = options.returnTokenIds ?? acceptsTokenIds(options.baseUrl);
    this.writeTopk = options.writeTopk;
    this.capturesDistributions = top > 0 && this.writeTopk !== undefined;
  }

  async generate(
    items: TeacherItem[],
    sampling: SamplingParams,
    opts: TeacherGenerateOptions = {},
  ): Promise<TeacherOutput[]> {
    if (opts.captureTopK && !this.capturesDistributions)
      throw new ProviderError(
        'this OpenAI-compatible teacher gives no token distributions: set topLogprobs (1-20) in its settings for kd, train with sft, or use a local teacher',
        'config',
        this.name,
      );
    const k = opts.captureTopK ? Math.min(opts.captureTopK, this.topLogprobs) : 0;
    const captured: (EndpointTopk | null)[] = new Array<EndpointTopk | null>(items.length).fill(null);
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
          const item = items[index] as TeacherItem;
          const { output, logprobs } = await this.complete(item, sampling, signal, item.topkPath ? k : 0);
          results[index] = output;
          // An answer whose reasoning was cut out no longer matches its tokens: not captured.
          if (item.topkPath && logprobs && logprobs.length > 0 && !output.thinking)
            captured[index] = {
              path: item.topkPath,
              tokens: logprobs,
              promptTokens: output.promptTokens,
              text: output.text,
            };
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
    const files = captured.filter((c): c is EndpointTopk => c !== null);
    if (k > 0 && files.length > 0 && this.writeTopk) {
      const rows = await this.writeTopk(files, k);
      captured.forEach((c, i) => {
        const at = c ? files.indexOf(c) : -1;
        if (at >= 0) results[i] = { ...(results[i] as TeacherOutput), topkTokens: rows[at] ?? 0 };
      });
    }
    return results;
  }

  /** One item; `signal` fires on the caller's cancel or a sibling's failure. */
  private async complete(
    item: TeacherItem,
    sampling: SamplingParams,
    signal: AbortSignal,
    k: number,
  ): Promise<{ output: TeacherOutput; logprobs: TokenLogprob[] | null }> {
    const messages = [
      ...(item.system !== undefined ? [{ role: 'system', content: item.system }] : []),
      ...item.messages,
    ];
    const request = (tokenIds: boolean): Record<string, unknown> => ({
      model: this.model,
      messages,
      temperature: sampling.temperature,
      top_p: sampling.top_p,
      max_tokens: sampling.max_new_tokens,
      // Greedy needs no seed; a seeded request is batched alone by some servers (this engine's).
      ...(sampling.temperature > 0 ? { seed: sampling.seed } : {}),
      ...(this.reasoningEffort ? { reasoning_effort: this.reasoningEffort } : {}),
      ...(k > 0
        ? { logprobs: true, top_logprobs: k, ...(tokenIds ? { return_tokens_as_token_ids: true } : {}) }
        : {}),
    });
    const tokenIds = k > 0 && this.returnTokenIds;
    let reply;
    try {
      reply = await this.client.chat(request(tokenIds), signal);
    } catch (e) {
      // vLLM's field is not OpenAI's: a server that validates fields answers 400. Ask once more
      // without it; if that succeeds the field was the reason, so it is not sent again.
      if (!(tokenIds && e instanceof ProviderError && e.status === 400)) throw e;
      reply = await this.client.chat(request(false), signal);
      this.returnTokenIds = false;
    }
    const choice = reply.completion.choices[0];
    const reason = choice?.finish_reason;
    // Reasoning inline in the text, or beside it in a field of its own: either way, it was thought.
    const { text, thinking } = splitThinking(reply.text);
    const separate = choice?.message.reasoning_content ?? choice?.message.reasoning;
    const output: TeacherOutput = {
      text,
      thinking: thinking || (typeof separate === 'string' && separate.trim() !== ''),
      promptTokens: countOrNull(reply.completion.usage?.prompt_tokens),
      completionTokens: countOrNull(reply.completion.usage?.completion_tokens),
      latencyMs: reply.latencyMs,
      ttftMs: null,
      finishReason: reason === 'length' ? 'length' : reason === 'stop' ? 'stop' : null,
    };
    return { output, logprobs: k > 0 ? (choice?.logprobs?.content ?? null) : null };
  }
}
