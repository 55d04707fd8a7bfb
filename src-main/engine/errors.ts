/**
 * Typed errors of the engine client. Every failure a caller of EngineClient.call() sees is an
 * EngineError (or a subclass), carrying the method, the request id and the engine's detail, so
 * callers can state which failures they expect (`err instanceof EngineCancelledError`,
 * `err.code === 'model_not_found'`).
 */
import {
  ENGINE_ERROR_CODES,
  type EngineErrorCode,
  type EngineErrorPayload,
} from '../../src-shared/engine-protocol';
import { StudioError } from '../core/errors';

/** The engine's own codes plus the ones the client produces itself. */
export type EngineClientErrorCode =
  | EngineErrorCode
  /** The engine process exited (crash, kill, shutdown) while the call was pending. */
  | 'engine_exited'
  /** The engine process could not be started (python missing, bad cwd). */
  | 'spawn_failed'
  /** The engine wrote something on stdout that is not a protocol message. */
  | 'protocol_error'
  /** The call ran past its timeout; the client sent `cancel` for it. */
  | 'timeout';

export class EngineError extends StudioError {
  declare readonly code: EngineClientErrorCode;

  constructor(
    message: string,
    code: EngineClientErrorCode,
    readonly method: string | null,
    readonly requestId: string | null,
    detail: Record<string, unknown> = {},
  ) {
    super(message, code, detail);
  }
}

/** The engine rejected the parameters; `param` names the offending one when the engine said. */
export class EngineInvalidParamsError extends EngineError {
  constructor(message: string, method: string | null, requestId: string | null, detail: Record<string, unknown>) {
    super(message, 'invalid_params', method, requestId, detail);
  }

  get param(): string | null {
    return typeof this.detail.param === 'string' ? this.detail.param : null;
  }
}

/** Model could not be found, loaded, parsed or downloaded. */
export class EngineModelError extends EngineError {
  constructor(
    message: string,
    code: EngineClientErrorCode,
    method: string | null,
    requestId: string | null,
    detail: Record<string, unknown>,
  ) {
    super(message, code, method, requestId, detail);
  }
}

export class EngineOutOfMemoryError extends EngineError {
  constructor(message: string, method: string | null, requestId: string | null, detail: Record<string, unknown>) {
    super(message, 'out_of_memory', method, requestId, detail);
  }
}

/** The call was cancelled: by the caller's AbortSignal, or the engine reported `cancelled`. */
export class EngineCancelledError extends EngineError {
  constructor(method: string | null, requestId: string | null, detail: Record<string, unknown> = {}) {
    super(`engine call ${method ?? '?'} (${requestId ?? '?'}) was cancelled`, 'cancelled', method, requestId, detail);
  }
}

export class EngineTimeoutError extends EngineError {
  constructor(
    method: string | null,
    requestId: string | null,
    readonly timeoutMs: number,
  ) {
    super(
      `engine call ${method ?? '?'} (${requestId ?? '?'}) timed out after ${timeoutMs} ms`,
      'timeout',
      method,
      requestId,
      { timeoutMs },
    );
  }
}

/** The engine process ended while the call was pending. */
export class EngineExitedError extends EngineError {
  constructor(
    method: string | null,
    requestId: string | null,
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly stderrTail: string[],
    reason?: string,
  ) {
    const how = signal ? `signal ${signal}` : `exit code ${exitCode ?? '?'}`;
    const tail = stderrTail.slice(-5).join('\n');
    super(
      `engine exited (${how}) during ${method ?? 'a call'}${reason ? `: ${reason}` : ''}${tail ? `\nstderr:\n${tail}` : ''}`,
      'engine_exited',
      method,
      requestId,
      { exitCode, signal, stderrTail, ...(reason ? { reason } : {}) },
    );
  }
}

export class EngineSpawnError extends EngineError {
  constructor(
    readonly python: string,
    readonly spawnError: Error,
  ) {
    super(`could not start the engine with ${python}: ${spawnError.message}`, 'spawn_failed', null, null, {
      python,
      cause: spawnError.message,
    });
  }
}

/** A stdout line that is not a protocol message; `line` is the offending text (truncated). */
export class EngineProtocolError extends EngineError {
  constructor(
    readonly line: string,
    reason: string,
    method: string | null = null,
    requestId: string | null = null,
  ) {
    super(
      `engine protocol error${method ? ` during ${method}` : ''}: ${reason}: ${JSON.stringify(line)}`,
      'protocol_error',
      method,
      requestId,
      { line, reason },
    );
  }
}

const MODEL_CODES: ReadonlySet<string> = new Set([
  'model_not_found',
  'model_load_failed',
  'unsupported_architecture',
  'corrupt_file',
  'download_failed',
]);

const KNOWN_CODES: ReadonlySet<string> = new Set(ENGINE_ERROR_CODES);

/** Map an `error` reply from the engine to the matching typed error. Unknown codes become `internal`. */
export function engineErrorFromPayload(
  payload: EngineErrorPayload,
  method: string | null,
  requestId: string | null,
): EngineError {
  const detail = payload.detail ?? {};
  const code = KNOWN_CODES.has(payload.code) ? payload.code : 'internal';
  const extra = code === payload.code ? detail : { ...detail, engineCode: payload.code };
  const message = `${method ?? 'engine'}: ${payload.message}`;
  if (code === 'cancelled') return new EngineCancelledError(method, requestId, extra);
  if (code === 'invalid_params') return new EngineInvalidParamsError(message, method, requestId, extra);
  if (code === 'out_of_memory') return new EngineOutOfMemoryError(message, method, requestId, extra);
  if (MODEL_CODES.has(code)) return new EngineModelError(message, code, method, requestId, extra);
  return new EngineError(message, code, method, requestId, extra);
}
