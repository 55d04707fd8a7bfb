/** Typed errors of the pipeline. Each carries the context a user needs to fix the cause. */

export class PipelineError extends Error {
  constructor(
    message: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'PipelineError';
  }
}

/** A setting or hyperparameter is out of range; `field` names it. */
export class ConfigError extends PipelineError {
  constructor(
    message: string,
    readonly field: string,
    detail: Record<string, unknown> = {},
  ) {
    super(message, { field, ...detail });
    this.name = 'ConfigError';
  }
}

/** A run, persona or checkpoint that does not exist. */
export class NotFoundError extends PipelineError {
  constructor(
    readonly kind: string,
    readonly id: string,
  ) {
    super(`${kind} not found: ${id}`, { kind, id });
    this.name = 'NotFoundError';
  }
}

/** The user (or a signal) cancelled the work. */
export class CancelledError extends PipelineError {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** A step needs the output of an earlier step that has not run. */
export class StepOrderError extends PipelineError {
  constructor(step: string, missing: string) {
    super(`step "${step}" needs ${missing}; run the earlier steps first`, { step, missing });
    this.name = 'StepOrderError';
  }
}
