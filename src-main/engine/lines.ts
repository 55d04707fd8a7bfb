/**
 * The engine's stdout, parsed apart from the transport so it can be unit-tested with fake chunks:
 * LineSplitter turns arbitrary chunks into whole lines; parseEngineLine turns one line into a
 * tagged message (result / error / event) or says why it is garbage.
 */
import type { EngineErrorPayload, EngineEvent } from '../../src-shared/engine-protocol';

/** Longest garbage text kept in errors and logs (characters). */
export const GARBAGE_SNIPPET_CHARS = 300;

/** Accumulates text chunks and yields complete lines (without the newline; `\r\n` tolerated). */
export class LineSplitter {
  private buffer = '';

  /** Feed one chunk; returns the lines it completed, in order. */
  push(chunk: string): string[] {
    this.buffer += chunk;
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = this.buffer.indexOf('\n', start);
      if (nl < 0) break;
      const end = nl > start && this.buffer.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      lines.push(this.buffer.slice(start, end));
      start = nl + 1;
    }
    this.buffer = this.buffer.slice(start);
    return lines;
  }

  /** The unterminated rest (when the stream ends), or null when there is none. */
  flush(): string | null {
    const rest = this.buffer.endsWith('\r') ? this.buffer.slice(0, -1) : this.buffer;
    this.buffer = '';
    return rest.length > 0 ? rest : null;
  }

  /** Characters waiting for a newline. */
  get pending(): number {
    return this.buffer.length;
  }
}

const EVENT_KINDS: ReadonlySet<string> = new Set(['progress', 'metric', 'checkpoint', 'token', 'log']);

export type ParsedLine =
  | { kind: 'empty' }
  | { kind: 'result'; id: string; result: unknown }
  | { kind: 'error'; id: string; error: EngineErrorPayload }
  | { kind: 'event'; id: string; event: EngineEvent }
  | { kind: 'unknown_event'; id: string; name: string }
  /** Not a protocol message. `id` is a request id found in the text, when one could be recovered. */
  | { kind: 'garbage'; line: string; reason: string; id: string | null };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function snippet(line: string): string {
  return line.length > GARBAGE_SNIPPET_CHARS ? `${line.slice(0, GARBAGE_SNIPPET_CHARS)}…` : line;
}

/** Best effort: the request id inside a damaged line (e.g. a log line glued to a reply). */
function recoverId(line: string): string | null {
  const m = /"id"\s*:\s*"([^"\\]{1,100})"/.exec(line);
  return m ? (m[1] ?? null) : null;
}

function garbage(line: string, reason: string, id?: string | null): ParsedLine {
  return { kind: 'garbage', line: snippet(line), reason, id: id === undefined ? recoverId(line) : id };
}

/** Parse one stdout line of the engine. Never throws. */
export function parseEngineLine(line: string): ParsedLine {
  const text = line.trim();
  if (text.length === 0) return { kind: 'empty' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return garbage(text, 'not JSON');
  }
  if (!isRecord(value)) return garbage(text, 'not a JSON object', null);
  const id = value.id;
  if (typeof id !== 'string' || id.length === 0) return garbage(text, 'no request id', null);
  if ('result' in value) return { kind: 'result', id, result: value.result };
  if ('error' in value) {
    const err = value.error;
    if (!isRecord(err) || typeof err.code !== 'string' || typeof err.message !== 'string') {
      return garbage(text, 'malformed error object', id);
    }
    const payload: EngineErrorPayload = {
      code: err.code as EngineErrorPayload['code'],
      message: err.message,
      ...(isRecord(err.detail) ? { detail: err.detail } : {}),
    };
    return { kind: 'error', id, error: payload };
  }
  if (typeof value.event === 'string') {
    // A newer engine may add event kinds: skip them rather than fail the call.
    if (!EVENT_KINDS.has(value.event)) return { kind: 'unknown_event', id, name: value.event };
    const { id: _id, ...event } = value;
    return { kind: 'event', id, event: event as unknown as EngineEvent };
  }
  return garbage(text, 'neither result, error nor event', id);
}
