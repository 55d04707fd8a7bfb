import { StudioError } from '../core/errors';

/** not_found: no such sheet or item; invalid_input: a bad rating, choice or note; step_order: nothing evaluated yet. */
export class ReviewError extends StudioError {
  constructor(
    message: string,
    code: 'not_found' | 'invalid_input' | 'step_order',
    detail: Record<string, unknown> = {},
  ) {
    super(message, code, detail);
  }
}
