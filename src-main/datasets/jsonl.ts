/** JSON Lines reading and writing. A broken line is reported by number; the other lines are kept. */
import { ConflictError, InputError, errorText } from '../core/errors';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A JSONL line that is not valid JSON; `detail.line` is 1-based. */
export class JsonlError extends InputError {
  constructor(message: string, detail: { path?: string; line: number }) {
    super(message, detail);
  }
}

export interface JsonlLineError {
  /** 1-based line number. */
  line: number;
  message: string;
}

export interface JsonlResult<T> {
  rows: T[];
  errors: JsonlLineError[];
}

/**
 * Parses JSON Lines text. Blank lines are skipped. In lenient mode (default) every bad line is
 * listed in `errors`; with strict: true the first bad line throws a JsonlError naming it.
 * `validate` may reject a parsed value by returning a message.
 */
export function parseJsonl<T = unknown>(
  text: string,
  opts: { strict?: boolean; path?: string; validate?: (value: unknown) => string | null } = {},
): JsonlResult<T> {
  const rows: T[] = [];
  const errors: JsonlLineError[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).replace(/\r$/, '');
    if (raw.trim() === '') continue;
    let message: string | null = null;
    let value: unknown;
    try {
      value = JSON.parse(raw);
      message = opts.validate ? opts.validate(value) : null;
    } catch (err) {
      message = errorText(err);
    }
    if (message === null) {
      rows.push(value as T);
      continue;
    }
    const where = opts.path ? `${opts.path}:${i + 1}` : `line ${i + 1}`;
    if (opts.strict)
      throw new JsonlError(`Invalid JSON at ${where}: ${message}`, { path: opts.path, line: i + 1 });
    errors.push({ line: i + 1, message });
  }
  return { rows, errors };
}

/** Non-blank lines of a JSONL file (its rows, unparsed); 0 when the file is missing. */
export function countJsonlRows(path: string): number {
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '').length;
}

export function readJsonl<T = unknown>(
  path: string,
  opts: { strict?: boolean; validate?: (value: unknown) => string | null } = {},
): JsonlResult<T> {
  return parseJsonl<T>(readFileSync(path, 'utf8'), { ...opts, path });
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
