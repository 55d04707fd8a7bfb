/** JSON Lines writing and counting; reading is core/jsonl.ts's, re-exported here. */
import { ConflictError } from '../core/errors';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export { JsonlError, parseJsonl, readJsonl, type JsonlLineError, type JsonlResult } from '../core/jsonl';

/** Non-blank lines of a JSONL file (its rows, unparsed); 0 when the file is missing. */
export function countJsonlRows(path: string): number {
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '').length;
}

/** Writes one JSON object a line (creating the folder); returns bytes written. */
export function writeJsonl(path: string, rows: Iterable<unknown>): number {
  const parts: string[] = [];
  for (const r of rows) parts.push(JSON.stringify(r));
  const text = parts.length ? `${parts.join('\n')}\n` : '';
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return Buffer.byteLength(text);
}

/**
 * Writes JSON Lines into a temporary file beside `path` and renames it into place, so a failed
 * write leaves an earlier file as it was. An existing file is replaced only with overwrite
 * (else a ConflictError naming it). Returns bytes written.
 */
export function writeJsonlAtomic(
  path: string,
  rows: Iterable<unknown>,
  opts: { overwrite?: boolean } = {},
): number {
  if (!opts.overwrite && existsSync(path))
    throw new ConflictError(`${path} already exists: not replaced`, { path });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const bytes = writeJsonl(tmp, rows);
    renameSync(tmp, path);
    return bytes;
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
