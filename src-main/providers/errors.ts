/** Typed failures of teacher providers. Messages never contain the API key. */
import { StudioError } from '../core/errors';

export type ProviderErrorCode =
  /** A non-retryable HTTP status (400, 401, 404, ...) or retries exhausted on 5xx. */
  | 'http_error'
  /** 429 until attempts ran out. */
  | 'rate_limited'
  /** A 2xx body that is not the expected JSON. */
  | 'bad_response'
  /** Every attempt timed out. */
  | 'timeout'
  /** Connection refused / reset / DNS, until attempts ran out. */
  | 'network'
  /** The caller's AbortSignal fired. */
  | 'cancelled'
  /** The provider was configured wrongly (empty base URL, bad concurrency). */
  | 'config';

export interface ProviderErrorDetail extends Record<string, unknown> {
  url?: string;
  status?: number | null;
  attempts?: number;
  /** Start of the response body, for diagnosis (API key redacted). */
  bodySnippet?: string;
}

export class ProviderError extends StudioError {
  declare readonly code: ProviderErrorCode;
  declare readonly detail: ProviderErrorDetail & { provider: string };

  constructor(
    message: string,
    code: ProviderErrorCode,
    readonly provider: string,
    detail: ProviderErrorDetail = {},
  ) {
    super(message, code, { ...detail, provider });
  }

  get status(): number | null {
    return this.detail.status ?? null;
  }

  get attempts(): number {
    return this.detail.attempts ?? 0;
  }
}
