/**
 * The engine's stdout, parsed apart from the transport so it can be unit-tested with fake chunks:
 * LineSplitter turns arbitrary chunks into whole lines; parseEngineLine turns one line into a
 * tagged message (result / error / event) or says why it is garbage.
 */
import type { EngineErrorPayload, EngineEvent } from '../../src-shared/engine-protocol';

/** Longest garbage text kept in errors and logs (characters). */
export const GARBAGE_SNIPPET_CHARS = 300;

/**
 * Accumulates text chunks and yields complete lines (without the newline; `\r\n` tolerated).
 * Only the new chunk is scanned for newlines, so a multi-megabyte reply (embedding vectors)
 * arriving in thousands of chunks costs linear time.
 */
export class LineSplitter {
  private parts: string[] = [];
  private partsLength = 0;

  /** Feed one chunk; returns the lines it completed, in order. */
  push(chunk: string): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl < 0) break;
      let line = chunk.slice(start, nl);
      if (this.parts.length > 0) {
        line = this.parts.join('') + line;
        this.parts = [];
        this.partsLength = 0;
      }
      lines.push(line.endsWith('\r') ? line.slice(0, -1) : line);
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.parts.push(chunk.slice(start));
      this.partsLength += chunk.length - start;
    }
    return lines;
  }

  /** The unterminated rest (when the stream ends), or null when there is none. */
  flush(): string | null {
    const joined = this.parts.join('');
    this.parts = [];
    this.partsLength = 0;
    const rest = joined.endsWith('\r') ? joined.slice(0, -1) : joined;
    return rest.length > 0 ? rest : null;
  }

  /** Characters waiting for a newline. */
  get pending(): number {
    return this.partsLength;
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
  if (typeof id !== 'string' || id.length === 0) {
    // The engine answers a line it could not read with an error whose id is null.
    const err = value.error;
    const why = isRecord(err) && typeof err.message === 'string' ? `engine error without request id: ${err.message}` : 'no request id';
    return garbage(text, why, null);
  }
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
