import { StudioError } from '../core/errors';

/** A database problem, with the context needed to act on it (path, versions, ids). */
export class StoreError extends StudioError {
  constructor(message: string, detail: Record<string, unknown> = {}) {
    super(message, 'store', detail);
  }
}
