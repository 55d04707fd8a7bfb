/**
 * The one error hierarchy of the TypeScript side. Every error the app raises on purpose is a
 * StudioError with a stable `code` (one of ErrorCode in the contract) and a JSON `detail` that
 * says what to fix; the bridge turns a code into an HTTP status by table, the renderer shows it,
 * and the CLI prints the message. Subclasses exist where callers catch by kind.
 */
import type { ErrorCode } from '../../src-shared/contract';

export class StudioError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A setting or hyperparameter is out of range, or a config file is wrong; `field` names it. */
export class ConfigError extends StudioError {
  constructor(
    message: string,
    readonly field: string,
    detail: Record<string, unknown> = {},
  ) {
    super(message, 'config', { field, ...detail });
  }
}

/** A request's parameter is missing or of the wrong type; `param` names it. */
export class InvalidParamsError extends StudioError {
  constructor(message: string, param: string, detail: Record<string, unknown> = {}) {
    super(message, 'invalid_params', { param, ...detail });
  }
}

/** Something the user supplied (a file, a text, a rating) is malformed. */
export class InputError extends StudioError {
  constructor(message: string, detail: Record<string, unknown> = {}) {
    super(message, 'invalid_input', detail);
  }
}

/** A run, persona, checkpoint, sheet... that does not exist. */
export class NotFoundError extends StudioError {
  constructor(
    readonly kind: string,
    readonly id: string | number,
  ) {
    super(`${kind} not found: ${id}`, 'not_found', { kind, id });
  }
}

/** The request is fine but the state does not allow it now (already running, not promotable). */
export class ConflictError extends StudioError {
  constructor(message: string, detail: Record<string, unknown> = {}) {
    super(message, 'conflict', detail);
  }
}

/** The user (or a signal) cancelled the work. */
export class CancelledError extends StudioError {
  constructor(message = 'cancelled', detail: Record<string, unknown> = {}) {
    super(message, 'cancelled', detail);
  }
}

/** A step needs the output of an earlier step that has not run. */
export class StepOrderError extends StudioError {
  constructor(step: string, missing: string, detail: Record<string, unknown> = {}) {
    super(`step "${step}" needs ${missing}; run the earlier steps first`, 'step_order', {
      step,
      missing,
      ...detail,
    });
  }
}

/** A pipeline step could not complete with the data it has (no held-out questions, an empty split). */
export class PipelineError extends StudioError {
  constructor(message: string, detail: Record<string, unknown> = {}) {
    super(message, 'pipeline', detail);
  }
}

/** True for every error that means "cancelled": ours, the engine's and the providers'. */
export function isCancellation(error: unknown): boolean {
  return (
    error instanceof CancelledError ||
    (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'cancelled')
  );
}

/** An error's whole message, for a thrown value of any type. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The first line of an error's message (engine errors append stderr below it). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.message;
  return String(error);
}
