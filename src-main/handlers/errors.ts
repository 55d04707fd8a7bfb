/**
 * How an error crosses to the renderer: a StudioError (or an engine or provider error, which
 * carry the same codes) becomes an ApiErrorPayload with its code and detail; the loopback bridge
 * answers with the HTTP status of that code, read from one table.
 */
import { isErrorCode, type ApiErrorPayload, type ErrorCode } from '../../src-shared/contract';

/** The HTTP status of every error code. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  internal: 500,
  invalid_params: 400,
  config: 400,
  invalid_input: 400,
  usage: 400,
  not_found: 404,
  unknown_channel: 404,
  conflict: 409,
  step_order: 409,
  cancelled: 409,
  pipeline: 422,
  io: 500,
  store: 500,
  judge: 502,
  bad_request: 400,
  too_large: 413,
  method_not_allowed: 405,
  unauthorized: 401,
  forbidden_host: 403,
  forbidden_origin: 403,
  forbidden_sender: 403,
  transport: 502,
  no_backend: 502,
  unknown_method: 500,
  model_not_found: 404,
  model_load_failed: 500,
  unsupported_architecture: 400,
  corrupt_file: 400,
  download_failed: 502,
  upload_failed: 502,
  remote_failed: 502,
  out_of_memory: 507,
  engine_exited: 500,
  spawn_failed: 500,
  protocol_error: 500,
  timeout: 504,
  http_error: 502,
  rate_limited: 429,
  bad_response: 502,
  network: 502,
};

/** Node's system error codes a user can act on, as one of ours. */
const SYSTEM_CODES: Readonly<Record<string, ErrorCode>> = {
  ENOENT: 'not_found',
  EACCES: 'io',
  EPERM: 'io',
  EROFS: 'io',
  ENOSPC: 'io',
  EISDIR: 'io',
  ENOTDIR: 'io',
  EEXIST: 'conflict',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Plain JSON only: a detail that cannot be serialised is dropped rather than failing the reply. */
function jsonSafe(detail: Record<string, unknown>): Record<string, unknown> | undefined {
  try {
    return JSON.parse(JSON.stringify(detail)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export function toErrorPayload(error: unknown): ApiErrorPayload {
  if (!(error instanceof Error)) {
    return { code: 'internal', message: typeof error === 'string' ? error : 'unknown error' };
  }
  const own = (error as { code?: unknown }).code;
  const system = typeof own === 'string' ? SYSTEM_CODES[own] : undefined;
  const code: ErrorCode = isErrorCode(own) ? own : (system ?? 'internal');
  const rawDetail = (error as { detail?: unknown }).detail;
  // Validation errors (PersonaError) carry their problems apart from `detail`: keep them.
  const issues = (error as { issues?: unknown }).issues;
  // A traceback (the engine attaches one to unexpected failures) is for the log, never the client.
  const { traceback: _traceback, ...ownDetail } = isRecord(rawDetail) ? rawDetail : {};
  const detail = jsonSafe({
    ...ownDetail,
    ...(Array.isArray(issues) ? { issues } : {}),
    ...(system ? { systemCode: own } : {}),
    errorClass: error.name,
  });
  return detail ? { code, message: error.message, detail } : { code, message: error.message };
}

/** The HTTP status the loopback bridge answers a failed request with. */
export function httpStatusFor(payload: ApiErrorPayload): number {
  return HTTP_STATUS[payload.code] ?? 500;
}
