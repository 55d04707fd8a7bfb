/**
 * The records of a data file and what layout they have. A file is JSON Lines (one record a
 * line, numbered by line) or one JSON array (numbered by entry, from 1); a JSON object holding one
 * such array ({"data": [...]}) is read as that array. Layouts, told apart by their keys:
 *   chat          {"messages": [{"role", "content"}, ...]}            (OpenAI chat JSONL)
 *   sharegpt      {"conversations": [{"from", "value"}, ...]}
 *   alpaca        {"instruction", "input"?, "output"}
 *   characterllm  {"prompt", "output", "source"} (prompted JSONL) or {"dialogue": [...]} (generated JSON)
 */
import type { ImportFormat } from '../../src-shared/contract';
import { InputError, errorText } from '../core/errors';
import { parseJsonl } from '../core/jsonl';

export interface ImportRecord {
  /** 1-based line (JSON Lines) or entry (JSON array). */
  at: number;
  value: unknown;
}

export interface ImportSkip {
  at: number;
  reason: string;
}

export interface RecordSet {
  unit: 'line' | 'entry';
  records: ImportRecord[];
  /** Lines that are not JSON. */
  broken: ImportSkip[];
  /** The text looks like CSV (named in the message when no line is JSON). */
  csv?: boolean;
}

/** How each layout is named in messages. */
export const LAYOUT_NAMES: Readonly<Record<ImportFormat, string>> = {
  chat: 'chat JSONL (messages)',
  sharegpt: 'ShareGPT (conversations)',
  alpaca: 'Alpaca (instruction/input/output)',
  characterllm: 'Character-LLM (prompted JSONL or generated JSON)',
};

/** Records looked at to tell the layout. */
const SAMPLE = 50;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** "data.jsonl:3" / "data.json, entry 3": where a record is, for messages. */
export function locate(path: string, unit: 'line' | 'entry', at: number): string {
  const name = path || 'the file';
  return unit === 'line' ? `${name}:${at}` : `${name}, entry ${at}`;
}

/** An error's detail naming a record: { line } or { entry }. */
export function atDetail(unit: 'line' | 'entry', at: number): { line: number } | { entry: number } {
  return unit === 'line' ? { line: at } : { entry: at };
}

/** Line and column of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

function parseJsonDocument(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = errorText(err);
    const pos = /position (\d+)/.exec(message);
    const at = pos ? lineColumn(text, Number(pos[1])) : null;
    throw new InputError(
      `${path || 'the file'}${at ? `:${at.line}:${at.column}` : ''}: not valid JSON: ${message}`,
      { path, ...(at ? { line: at.line, column: at.column } : {}) },
    );
  }
}

function firstLineIsJson(text: string): boolean {
  const first = text.split('\n', 1)[0] ?? '';
  if (first.trim() === text.trim()) return false;
  try {
    JSON.parse(first);
    return true;
  } catch {
    return false;
  }
}

/** Comma-separated text (a spreadsheet's export): a header line with commas, not JSON. */
function looksLikeCsv(text: string, path: string): boolean {
  if (/\.(csv|tsv)$/i.test(path)) return true;
  const first = text.trimStart().split('\n', 1)[0] ?? '';
  return !/^[[{"]/.test(first) && /^[^,]+(,[^,]*)+$/.test(first.trim());
}

/** The records of a file's text. A JSON array that does not parse is an InputError naming the line. */
export function readRecords(text: string, path = ''): RecordSet {
  const trimmed = text.trimStart();
  // JSON Lines whose lines are arrays also start with '[': read whole only when the first line
  // is not a JSON value of its own.
  if (trimmed.startsWith('[') && !firstLineIsJson(trimmed)) {
    const doc = parseJsonDocument(text, path);
    if (Array.isArray(doc))
      return { unit: 'entry', records: doc.map((value, i) => ({ at: i + 1, value })), broken: [] };
  }
  const parsed = parseJsonl(text);
  const records: ImportRecord[] = parsed.rows.map((value, i) => ({ at: parsed.lines[i] as number, value }));
  const broken: ImportSkip[] = parsed.errors.map((e) => ({
    at: e.line,
    reason: `not valid JSON: ${e.message}`,
  }));
  // A pretty-printed JSON document is not JSON Lines: read it whole.
  if (trimmed.startsWith('{') && broken.length > 0 && broken[0]?.at === 1) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      doc = undefined;
    }
    if (isObject(doc)) {
      const lists = Object.values(doc).filter(Array.isArray);
      const list = lists.length === 1 ? (lists[0] as unknown[]) : [doc];
      return { unit: 'entry', records: list.map((value, i) => ({ at: i + 1, value })), broken: [] };
    }
  }
  return { unit: 'line', records, broken, ...(looksLikeCsv(text, path) ? { csv: true } : {}) };
}

/** The layout one record has, by its keys; null when it has none of them. */
export function layoutOf(value: unknown): ImportFormat | null {
  if (!isObject(value)) return null;
  if (Array.isArray(value.messages)) return 'chat';
  if (Array.isArray(value.conversations) || Array.isArray(value.conversation)) return 'sharegpt';
  if (typeof value.instruction === 'string' && ('output' in value || 'response' in value)) return 'alpaca';
  if (Array.isArray(value.dialogue)) return 'characterllm';
  if (typeof value.output === 'string' && ('prompt' in value || 'source' in value)) return 'characterllm';
  return null;
}

export interface Detection {
  format: ImportFormat | null;
  /** Records of the sample that have the detected layout, and the sample's size. */
  votes: number;
  sampled: number;
}

/** The layout most of the first records have. */
export function detectLayout(set: RecordSet): Detection {
  const sample = set.records.slice(0, SAMPLE);
  const counts = new Map<ImportFormat, number>();
  for (const r of sample) {
    const f = layoutOf(r.value);
    if (f) counts.set(f, (counts.get(f) ?? 0) + 1);
  }
  let format: ImportFormat | null = null;
  let votes = 0;
  for (const [f, n] of counts) {
    if (n > votes) {
      format = f;
      votes = n;
    }
  }
  return { format, votes, sampled: sample.length };
}

/** What a record looks like, for a message: its keys, or its type. */
export function describeRecord(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (!isObject(value)) return `a ${typeof value}`;
  const keys = Object.keys(value);
  return keys.length ? `an object with ${keys.slice(0, 8).join(', ')}` : 'an empty object';
}

/**
 * The layout to read a file as: the requested one unless the file clearly has another (then an
 * InputError naming what it looks like), else the detected one (none detected: an InputError
 * naming the first record's keys).
 */
export function resolveLayout(
  set: RecordSet,
  requested: ImportFormat | null,
  path = '',
): { format: ImportFormat; detection: Detection } {
  const name = path || 'the file';
  const detection = detectLayout(set);
  if (set.records.length === 0) {
    const first = set.broken[0];
    if (first && set.csv)
      throw new InputError(
        `${name} is CSV (comma-separated), which is not an import layout: save the question -> answer pairs as JSON Lines, one {"messages": [{"role": "user", …}, {"role": "assistant", …}]} a line, or as an Alpaca JSON array`,
        { path, format: 'csv' },
      );
    throw new InputError(
      first
        ? `${locate(path, set.unit, first.at)}: no record could be read (${first.reason})`
        : `${name} holds no records (it is empty)`,
      { path, ...(first ? atDetail(set.unit, first.at) : {}) },
    );
  }
  const d = detection.format;
  if (requested && d && d !== requested) {
    throw new InputError(
      `${name} is not ${/^[aeiou]/i.test(LAYOUT_NAMES[requested]) ? 'an' : 'a'} ${LAYOUT_NAMES[requested]} file; it looks like ${LAYOUT_NAMES[d]} (${detection.votes} of its first ${detection.sampled} records): import it as ${d}`,
      { path, requested, detected: d },
    );
  }
  if (requested) return { format: requested, detection };
  if (d) return { format: d, detection };
  const first = set.records[0] as ImportRecord;
  throw new InputError(
    `${locate(path, set.unit, first.at)}: cannot tell the layout: the record is ${describeRecord(first.value)}; expected messages (chat), conversations (ShareGPT), instruction and output (Alpaca), or prompt and output / dialogue (Character-LLM)`,
    { path, ...atDetail(set.unit, first.at) },
  );
}
