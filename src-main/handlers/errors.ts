/**
 * How an error crosses to the renderer: every typed error of the pipeline, store and engine
 * becomes an ApiErrorPayload whose `code` says which kind it was, so the UI can react to it
 * (not found, invalid input, cancelled...) without parsing messages.
 */
import type { ApiErrorPayload } from '../../src-shared/contract';

/** An error raised by a handler itself (bad params from the renderer, a missing service). */
export class HandlerError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HandlerError';
  }
}

/** "StepOrderError" -> "step_order"; "NotFoundError" -> "not_found". */
function codeFromClassName(name: string): string {
  const base = name.replace(/Error$/, '') || 'internal';
  return base
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

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
  const ownCode = (error as { code?: unknown }).code;
  // Node system errors carry codes like ENOENT: keep them, they are what a user can act on.
  const code =
    typeof ownCode === 'string' && ownCode !== ''
      ? ownCode
      : error.constructor === Error || error.name === 'Error'
        ? 'internal'
        : codeFromClassName(error.name);
  const rawDetail = (error as { detail?: unknown }).detail;
  // Validation errors (PersonaError) carry their problems apart from `detail`: keep them.
  const issues = (error as { issues?: unknown }).issues;
  const detail = jsonSafe({
    ...(isRecord(rawDetail) ? rawDetail : {}),
    ...(Array.isArray(issues) ? { issues } : {}),
    errorClass: error.name,
  });
  return detail ? { code, message: error.message, detail } : { code, message: error.message };
}

/** The HTTP status the loopback bridge answers a failed request with. */
export function httpStatusFor(payload: ApiErrorPayload): number {
  const code = payload.code;
  if (code === 'not_found' || code.endsWith('_not_found') || code === 'ENOENT' || code === 'unknown_channel')
    return 404;
  if (code === 'cancelled') return 409;
  // The request is fine but the state is not ready for it (earlier step missing, files gone).
  if (
    code === 'conflict' ||
    code === 'busy' ||
    code.endsWith('_busy') ||
    code === 'step_order' ||
    code === 'no_evaluation' ||
    code === 'registry'
  )
    return 409;
  if (
    code === 'bad_request' ||
    code === 'invalid_params' ||
    code === 'config' ||
    code === 'persona' ||
    code === 'metric_input' ||
    code === 'validation' ||
    code.startsWith('invalid') ||
    code.endsWith('_validation')
  )
    return 400;
  return 500;
}
