import { dirname } from 'node:path';
import { databasePath } from '../core/paths';

/** SQLite's codes for a damaged file: the message alone ("database disk image is malformed") names no file. */
const DAMAGED = /^SQLITE_(CORRUPT|NOTADB)/;
/** A file system refusing a write: say which folder, and that it is not writable. */
const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS']);
/** A full disk, as Node (ENOSPC), SQLite (SQLITE_FULL) or the engine's Python (os error 28) say it. */
const DISK_FULL = /ENOSPC|SQLITE_FULL|No space left on device|database or disk is full/;

/** Typed errors -> one line with the cause (the stack only with --verbose). */
export function formatError(error: unknown, verbose = false, dataDir?: string): string {
  if (!(error instanceof Error)) return `error: ${String(error)}`;
  const first = error.message.split('\n')[0] ?? error.message;
  const kind = error.name && error.name !== 'Error' ? error.name : 'error';
  const detail = (error as { detail?: Record<string, unknown> }).detail;
  let hint = '';
  if (detail && typeof detail === 'object') {
    if (typeof detail.path === 'string' && !first.includes(detail.path)) hint = ` (${detail.path})`;
    if (typeof detail.param === 'string') hint += ` [param ${detail.param}]`;
  }
  const code = String((error as { code?: unknown }).code ?? '');
  if (DAMAGED.test(code) && dataDir)
    hint += ` (database ${databasePath(dataDir)}: run \`character doctor\` to check it and restore the last good backup)`;
  const errno = error as NodeJS.ErrnoException;
  if (NOT_WRITABLE.has(code) && typeof errno.path === 'string') {
    const folder = dirname(errno.path);
    hint += ` (the folder ${folder} is not writable: check its permissions, or whether the disk is mounted read-only)`;
  }
  if (DISK_FULL.test(code) || DISK_FULL.test(first))
    hint += ` (the disk${dataDir ? ` holding ${dataDir}` : ''} is full: free some space, then resume; finished steps and stored answers are kept)`;
  const cause = error.cause instanceof Error ? `: caused by ${error.cause.message.split('\n')[0]}` : '';
  const line = `character: ${kind}: ${first}${hint}${cause}` + issueLines(error);
  return verbose && error.stack ? `${line}\n${error.stack}` : line;
}

/** Each problem an error lists (a constitution's `issues`), one a line: "3 problem(s)" alone helps no one. */
function issueLines(error: Error): string {
  const issues = (error as { issues?: unknown }).issues;
  if (!Array.isArray(issues)) return '';
  return issues
    .map((i: { line?: number | null; field?: string | null; message?: string }) => {
      const where = `line ${i.line ?? '?'}${i.field ? `, ${i.field}` : ''}`;
      return `\n  ${where}: ${i.message ?? String(i)}`;
    })
    .join('');
}
