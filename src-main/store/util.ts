import { randomBytes } from 'node:crypto';

/** Current time as the ISO-8601 UTC string every table stores. */
export function nowIso(): string {
  return new Date().toISOString();
}

/**
 * A readable, sortable id: `<prefix>-YYYYMMDD-HHMMSS-<6 hex>`, e.g. run-20261121-214500-a1b2c3.
 * The random tail keeps ids unique when two are made in the same second.
 */
export function newId(prefix: string, at: Date = new Date()): string {
  const s = at.toISOString(); // 2026-11-21T21:45:00.000Z
  const stamp = `${s.slice(0, 4)}${s.slice(5, 7)}${s.slice(8, 10)}-${s.slice(11, 13)}${s.slice(14, 16)}${s.slice(17, 19)}`;
  return `${prefix}-${stamp}-${randomBytes(3).toString('hex')}`;
}

export function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === '') return fallback;
  return JSON.parse(text) as T;
}
