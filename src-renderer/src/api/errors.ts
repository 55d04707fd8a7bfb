import type { ApiErrorPayload, ErrorCode } from '../../../src-shared/contract';

/** A failed request as the renderer sees it: the main side's typed code, message and context. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly detail: Record<string, unknown> | undefined;

  constructor(payload: ApiErrorPayload) {
    super(payload.message);
    this.name = 'ApiError';
    this.code = payload.code;
    this.detail = payload.detail;
  }
}

/** Best-effort conversion of anything thrown on the way (network failure, bad JSON) into an ApiError. */
export function toApiError(error: unknown, code: ErrorCode = 'transport'): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError({ code, message });
}
