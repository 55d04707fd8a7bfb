/** Typed errors -> one line with the cause (the stack only with --verbose). */
export function formatError(error: unknown, verbose = false): string {
  if (!(error instanceof Error)) return `error: ${String(error)}`;
  const first = error.message.split('\n')[0] ?? error.message;
  const kind = error.name && error.name !== 'Error' ? error.name : 'error';
  const detail = (error as { detail?: Record<string, unknown> }).detail;
  let hint = '';
  if (detail && typeof detail === 'object') {
    if (typeof detail.path === 'string' && !first.includes(detail.path)) hint = ` (${detail.path})`;
    if (typeof detail.param === 'string') hint += ` [param ${detail.param}]`;
  }
  const cause = error.cause instanceof Error ? `: caused by ${error.cause.message.split('\n')[0]}` : '';
  const line = `character: ${kind}: ${first}${hint}${cause}`;
  return verbose && error.stack ? `${line}\n${error.stack}` : line;
}
