/**
 * A teacher behind any OpenAI-compatible endpoint: POST {baseUrl}/chat/completions.
 *
 * Bounded concurrency; each request has its own timeout (AbortSignal.timeout); 429, 408, 5xx,
 * network errors and timeouts are retried with exponential backoff and jitter, honouring
 * Retry-After; other 4xx fail at once. A 2xx body that is not chat-completion JSON is a
 * ProviderError('bad_response') naming the status and the start of the body; it is not retried
 * (a proxy answering HTML will keep answering HTML). The API key is sent as a Bearer token and
 * redacted from every message.
 */
import type { SamplingParams } from '../../src-shared/engine-protocol';
import { ProviderError, type ProviderErrorCode } from './errors';
import type { TeacherGenerateOptions, TeacherItem, TeacherOutput, TeacherProvider } from './types';

const DEFAULT_CONCURRENCY = 4;
const DEFAULT_MAX_ATTEMPTS = 5;
/** Per request, ms: generous because a long answer from a slow local server takes a while. */
const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_BACKOFF_BASE_MS = 500;
const DEFAULT_BACKOFF_MAX_MS = 30_000;
/** A Retry-After longer than this (ms) is capped: a batch job should not sleep for hours. */
const MAX_RETRY_AFTER_MS = 120_000;
/** Characters of a bad body quoted in errors. */
const SNIPPET_CHARS = 200;

export interface RetryInfo {
  attempt: number;
  delayMs: number;
  reason: string;
  status: number | null;
}

export interface OpenAICompatibleOptions {
  /** e.g. "http://127.0.0.1:8000/v1" or "https://api.openai.com/v1". */
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Attempts per item, the first included (default 5). */
  maxAttempts?: number;
  /** Per-request timeout in ms (default 120000). */
  timeoutMs?: number;
  /** First backoff delay in ms; doubles per attempt up to backoffMaxMs (defaults 500 / 30000). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Extra headers (e.g. an organisation id). */
  headers?: Record<string, string>;
  /** Called before each retry's sleep. */
  onRetry?: (info: RetryInfo) => void;
  /** For tests: a fetch and a random source. */
  fetch?: typeof fetch;
  random?: () => number;
}

interface ChatCompletionBody {
  choices: { message: { content: string | null }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

class RetryableFailure extends Error {
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
    readonly status: number | null,
    readonly retryAfterMs: number | null,
    readonly bodySnippet?: string,
  ) {
    super(message);
  }
}

/** Retry-After as ms: delta-seconds or an HTTP date; null when absent or unparseable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isChatCompletion(v: unknown): v is ChatCompletionBody {
  if (!isRecord(v) || !Array.isArray(v.choices) || v.choices.length === 0) return false;
  const first: unknown = v.choices[0];
  return isRecord(first) && isRecord(first.message) && typeof first.message.content === 'string';
}

function countOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

export class OpenAICompatibleProvider implements TeacherProvider {
  readonly name = 'openai';
  readonly model: string;
  private readonly url: string;
  private readonly apiKey: string;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly headers: Record<string, string>;
  private readonly onRetry: ((info: RetryInfo) => void) | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly random: () => number;

  constructor(options: OpenAICompatibleOptions) {
    const base = options.baseUrl.trim().replace(/\/+$/, '');
    if (!base) throw new ProviderError('OpenAI-compatible provider needs a base URL', 'config', 'openai');
    if (!options.model.trim())
      throw new ProviderError('OpenAI-compatible provider needs a model', 'config', 'openai');
    this.url = `${base}/chat/completions`;
    this.model = options.model;
    this.apiKey = options.apiKey ?? '';
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS));
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.backoffBaseMs = options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
    this.backoffMaxMs = options.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS;
    this.headers = options.headers ?? {};
    this.onRetry = options.onRetry;
    this.fetchImpl = options.fetch ?? fetch;
    this.random = options.random ?? Math.random;
  }

  async generate(
    items: TeacherItem[],
    sampling: SamplingParams,
    opts: TeacherGenerateOptions = {},
  ): Promise<TeacherOutput[]> {
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

  /** One item with retries; `signal` fires on the caller's cancel or a sibling's failure. */
  private async complete(
    item: TeacherItem,
    sampling: SamplingParams,
    signal: AbortSignal,
  ): Promise<TeacherOutput> {
    const messages = [
      ...(item.system !== undefined ? [{ role: 'system', content: item.system }] : []),
      ...item.messages,
    ];
    const body = JSON.stringify({
      model: this.model,
      messages,
      temperature: sampling.temperature,
      top_p: sampling.top_p,
      max_tokens: sampling.max_new_tokens,
      seed: sampling.seed,
      stream: false,
    });
    let last: RetryableFailure | null = null;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (signal.aborted) throw this.cancelled(attempt - 1);
      try {
        return await this.attempt(body, signal, attempt);
      } catch (e) {
        if (!(e instanceof RetryableFailure)) throw e;
        // The caller cancelled, or a sibling item failed and the batch is over.
        if (signal.aborted) throw this.cancelled(attempt);
        last = e;
        if (attempt === this.maxAttempts) break;
        const backoff = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (attempt - 1));
        // Jitter in [backoff/2, backoff) spreads retries of concurrent workers apart.
        const delayMs = e.retryAfterMs ?? backoff * (0.5 + this.random() * 0.5);
        this.onRetry?.({ attempt, delayMs, reason: e.message, status: e.status });
        await sleep(delayMs, signal).catch(() => {
          throw this.cancelled(attempt);
        });
      }
    }
    const f = last as RetryableFailure;
    throw new ProviderError(
      `${this.redact(f.message)} (gave up after ${this.maxAttempts} attempts)`,
      f.code,
      this.name,
      {
        url: this.url,
        status: f.status,
        attempts: this.maxAttempts,
        ...(f.bodySnippet !== undefined ? { bodySnippet: f.bodySnippet } : {}),
      },
    );
  }

  private async attempt(body: string, signal: AbortSignal, attempt: number): Promise<TeacherOutput> {
    const started = performance.now();
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const requestSignal = AbortSignal.any([signal, timeout]);
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
          ...this.headers,
        },
        body,
        signal: requestSignal,
      });
      text = await res.text();
    } catch (e) {
      if (timeout.aborted && !signal.aborted) {
        throw new RetryableFailure(
          'timeout',
          `no answer from ${this.url} within ${this.timeoutMs} ms`,
          null,
          null,
        );
      }
      if (signal.aborted) throw new RetryableFailure('cancelled', 'cancelled', null, null);
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (e as Error).message;
      throw new RetryableFailure('network', `could not reach ${this.url}: ${why}`, null, null);
    }
    const latencyMs = performance.now() - started;
    const snippet = this.snippet(text);
    if (res.status === 429) {
      throw new RetryableFailure(
        'rate_limited',
        `${this.url} answered 429 Too Many Requests: ${snippet}`,
        429,
        parseRetryAfter(res.headers.get('retry-after')),
        snippet,
      );
    }
    if (res.status >= 500 || res.status === 408) {
      throw new RetryableFailure(
        'http_error',
        `${this.url} answered HTTP ${res.status}: ${snippet}`,
        res.status,
        parseRetryAfter(res.headers.get('retry-after')),
        snippet,
      );
    }
    if (!res.ok) {
      throw new ProviderError(
        `${this.url} answered HTTP ${res.status}: ${snippet}`,
        'http_error',
        this.name,
        {
          url: this.url,
          status: res.status,
          attempts: attempt,
          bodySnippet: snippet,
        },
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!isChatCompletion(parsed)) {
      throw new ProviderError(
        `${this.url} answered HTTP ${res.status} with a body that is not a chat completion: ${JSON.stringify(snippet)}`,
        'bad_response',
        this.name,
        { url: this.url, status: res.status, attempts: attempt, bodySnippet: snippet },
      );
    }
    const choice = parsed.choices[0] as ChatCompletionBody['choices'][number];
    const reason = choice.finish_reason;
    return {
      text: choice.message.content as string,
      promptTokens: countOrNull(parsed.usage?.prompt_tokens),
      completionTokens: countOrNull(parsed.usage?.completion_tokens),
      latencyMs,
      ttftMs: null,
      finishReason: reason === 'length' ? 'length' : reason === 'stop' ? 'stop' : null,
    };
  }

  private cancelled(attempts: number): ProviderError {
    return new ProviderError(`request to ${this.url} was cancelled`, 'cancelled', this.name, {
      url: this.url,
      attempts,
    });
  }

  private redact(s: string): string {
    return this.apiKey ? s.split(this.apiKey).join('***') : s;
  }

  private snippet(body: string): string {
    const s = this.redact(body.trim());
    return s.length > SNIPPET_CHARS ? `${s.slice(0, SNIPPET_CHARS)}…` : s;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error('aborted'));
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
