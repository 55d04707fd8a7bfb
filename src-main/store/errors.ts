/** A database problem, with the context needed to act on it (path, versions, ids). */
export class StoreError extends Error {
  constructor(
    message: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** A row that was asked for by id and does not exist. */
export class NotFoundError extends StoreError {
  constructor(kind: string, id: string | number) {
    super(`${kind} not found: ${id}`, { kind, id });
    this.name = 'NotFoundError';
  }
}
