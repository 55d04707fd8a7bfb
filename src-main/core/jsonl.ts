/**
 * JSON Lines reading, for every layer (datasets/jsonl.ts adds the writers). A broken line is
 * reported by number; the other lines are kept.
 */
import { readFileSync } from 'node:fs';
import { InputError, errorText } from './errors';

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
  /** The 1-based line of each row, in step with `rows`. */
  lines: number[];
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
  const rowLines: number[] = [];
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
      rowLines.push(i + 1);
      continue;
    }
    const where = opts.path ? `${opts.path}:${i + 1}` : `line ${i + 1}`;
    if (opts.strict)
      throw new JsonlError(`Invalid JSON at ${where}: ${message}`, { path: opts.path, line: i + 1 });
    errors.push({ line: i + 1, message });
  }
  return { rows, lines: rowLines, errors };
}

export function readJsonl<T = unknown>(
  path: string,
  opts: { strict?: boolean; validate?: (value: unknown) => string | null } = {},
): JsonlResult<T> {
  return parseJsonl<T>(readFileSync(path, 'utf8'), { ...opts, path });
}
