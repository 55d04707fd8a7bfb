/**
 * One client for every OpenAI-compatible endpoint the app talks to (the teacher provider, the
 * LLM judge): POST {baseUrl}/chat/completions with one request's retries.
 *
 * Each request has its own timeout (AbortSignal.timeout); 429, 408, 5xx, network errors and
 * timeouts are retried with exponential backoff and jitter, honouring Retry-After; other 4xx
 * fail at once. A 2xx body that is not chat-completion JSON is a ProviderError('bad_response')
 * naming the status and the start of the body; it is not retried (a proxy answering HTML will
 * keep answering HTML). The API key is sent as a Bearer token and redacted from every message.
 */
import { ProviderError, type ProviderErrorCode } from './errors';
import { errorText } from '../core/errors';

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

export interface OpenAIClientOptions {
  /** e.g. "http://127.0.0.1:8000/v1" or "https://api.openai.com/v1". */
  baseUrl: string;
  apiKey?: string;
  /** Attempts per request, the first included (default 5). */
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
  /** Who is asking, for error messages and ProviderError.provider (default "openai"). */
  name?: string;
}

/** A token's log-probability with its alternatives, as chat completions return them. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  /** The token's UTF-8 bytes (OpenAI, vLLM); with return_tokens_as_token_ids, token is "token_id:N". */
  bytes?: number[] | null;
  top_logprobs?: { token: string; logprob: number; bytes?: number[] | null }[];
}

export interface ChatCompletion {
  choices: {
    /** reasoning_content (vLLM, DeepSeek) or reasoning (Ollama, OpenRouter): a thinking model's reasoning. */
    message: { content: string | null; reasoning_content?: string | null; reasoning?: string | null };
    finish_reason?: string | null;
    logprobs?: { content?: TokenLogprob[] | null } | null;
  }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

export interface CompletionReply {
  completion: ChatCompletion;
  /** The first choice's text. */
  text: string;
  latencyMs: number;
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

function isChatCompletion(v: unknown): v is ChatCompletion {
  if (!isRecord(v) || !Array.isArray(v.choices) || v.choices.length === 0) return false;
  const first: unknown = v.choices[0];
  return isRecord(first) && isRecord(first.message) && typeof first.message.content === 'string';
}

export class OpenAIClient {
  readonly url: string;
  readonly name: string;
  private readonly apiKey: string;
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly headers: Record<string, string>;
  private readonly onRetry: ((info: RetryInfo) => void) | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly random: () => number;

  constructor(options: OpenAIClientOptions) {
    this.name = options.name ?? 'openai';
    const base = options.baseUrl.trim().replace(/\/+$/, '');
    if (!base) throw new ProviderError('an OpenAI-compatible endpoint needs a base URL', 'config', this.name);
    this.url = `${base}/chat/completions`;
    this.apiKey = options.apiKey ?? '';
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS));
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.backoffBaseMs = options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
    this.backoffMaxMs = options.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS;
    this.headers = options.headers ?? {};
    this.onRetry = options.onRetry;
    this.fetchImpl = options.fetch ?? fetch;
    this.random = options.random ?? Math.random;
  }

  /** One chat completion (the request body as the endpoint takes it), retried as described above. */
  async chat(request: Record<string, unknown>, signal: AbortSignal): Promise<CompletionReply> {
    const body = JSON.stringify({ ...request, stream: false });
    let last: RetryableFailure | null = null;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (signal.aborted) throw this.cancelled(attempt - 1);
      try {
        return await this.attempt(body, signal, attempt);
      } catch (e) {
        if (!(e instanceof RetryableFailure)) throw e;
        // The caller cancelled, or a sibling request failed and the batch is over.
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

  private async attempt(body: string, signal: AbortSignal, attempt: number): Promise<CompletionReply> {
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
      const why = cause?.code ?? cause?.message ?? errorText(e);
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
    return { completion: parsed, text: parsed.choices[0]?.message.content ?? '', latencyMs };
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
