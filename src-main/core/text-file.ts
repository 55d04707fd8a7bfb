/**
 * The text of a file a user brings (a constitution, a training configuration, data to import),
 * whatever it was saved as: UTF-8 (a byte-order mark is dropped), UTF-16 and UTF-32 with or
 * without a byte-order mark (converted, and said so), and text that is not UTF-8 at all
 * (refused, naming the first line that is not). Windows tools (PowerShell's `>`, Notepad's
 * "Unicode") write UTF-16, which YAML and JSON parsers otherwise misread as "must be a mapping"
 * or "Unexpected token '戀'".
 */
import { readFileSync, statSync } from 'node:fs';
import { InputError, StudioError, errorText } from './errors';

export interface DecodedText {
  text: string;
  /** How the file was read, for messages: "UTF-8", "UTF-8 with a byte-order mark", "UTF-16 LE (converted)"… */
  encoding: string;
}

/** Bytes looked at to recognise UTF-16 or UTF-32 written without a byte-order mark. */
const SNIFF_BYTES = 4096;

function utf16(bytes: Buffer, bigEndian: boolean): string {
  const even = bytes.length - (bytes.length % 2);
  const copy = Buffer.from(bytes.subarray(0, even));
  if (bigEndian) copy.swap16();
  return copy.toString('utf16le');
}

function utf32(bytes: Buffer, bigEndian: boolean, path: string): string {
  const out: string[] = [];
  for (let i = 0; i + 4 <= bytes.length; i += 4) {
    const cp = bigEndian ? bytes.readUInt32BE(i) : bytes.readUInt32LE(i);
    if (cp > 0x10ffff)
      throw new InputError(`${path || 'the file'} is not valid UTF-32 (a code point beyond U+10FFFF)`, {
        path,
        encoding: 'utf-32',
      });
    out.push(String.fromCodePoint(cp));
  }
  return out.join('');
}

/** 'le' or 'be' when every 4-byte unit looks like a code point (ASCII text in UTF-32). */
function sniffUtf32(bytes: Buffer): 'le' | 'be' | null {
  const n = Math.min(bytes.length, SNIFF_BYTES) & ~3;
  if (n < 8 || bytes.length % 4 !== 0) return null;
  let le = true;
  let be = true;
  for (let i = 0; i < n; i += 4) {
    // A code point has its highest byte zero and at least one non-zero low byte.
    if (bytes[i + 3] !== 0 || bytes[i + 2]! > 0x10 || (bytes[i] === 0 && bytes[i + 1] === 0)) le = false;
    if (bytes[i] !== 0 || bytes[i + 1]! > 0x10 || (bytes[i + 3] === 0 && bytes[i + 2] === 0)) be = false;
  }
  return le ? 'le' : be ? 'be' : null;
}

/** 'le' or 'be' when most of the first code units have a zero high (or low) byte: ASCII as UTF-16. */
function sniffUtf16(bytes: Buffer): 'le' | 'be' | null {
  const n = Math.min(bytes.length, SNIFF_BYTES) & ~1;
  if (n < 4) return null;
  let zeroOdd = 0;
  let zeroEven = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) zeroEven++;
    if (bytes[i + 1] === 0) zeroOdd++;
  }
  const units = n / 2;
  if (zeroOdd > units * 0.4 && zeroEven < units * 0.05) return 'le';
  if (zeroEven > units * 0.4 && zeroOdd < units * 0.05) return 'be';
  return null;
}

/** 1-based number of the first line that is not valid UTF-8. */
function firstBadUtf8Line(bytes: Buffer): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      try {
        decoder.decode(bytes.subarray(start, i));
      } catch {
        return line;
      }
      line++;
      start = i + 1;
    }
  }
  return line;
}

export function decodeText(bytes: Buffer, path = ''): DecodedText {
  const name = path || 'the file';
  const b = (i: number): number | undefined => bytes[i];
  if (b(0) === 0xff && b(1) === 0xfe && b(2) === 0 && b(3) === 0)
    return { text: utf32(bytes.subarray(4), false, path), encoding: 'UTF-32 LE (converted)' };
  if (b(0) === 0 && b(1) === 0 && b(2) === 0xfe && b(3) === 0xff)
    return { text: utf32(bytes.subarray(4), true, path), encoding: 'UTF-32 BE (converted)' };
  if (b(0) === 0xef && b(1) === 0xbb && b(2) === 0xbf)
    return { text: bytes.subarray(3).toString('utf8'), encoding: 'UTF-8 with a byte-order mark' };
  if (b(0) === 0xff && b(1) === 0xfe)
    return { text: utf16(bytes.subarray(2), false), encoding: 'UTF-16 LE (converted)' };
  if (b(0) === 0xfe && b(1) === 0xff)
    return { text: utf16(bytes.subarray(2), true), encoding: 'UTF-16 BE (converted)' };
  const wide = sniffUtf32(bytes);
  if (wide)
    return {
      text: utf32(bytes, wide === 'be', path),
      encoding: `UTF-32 ${wide.toUpperCase()} without a byte-order mark (converted)`,
    };
  const sniffed = sniffUtf16(bytes);
  if (sniffed === 'le')
    return { text: utf16(bytes, false), encoding: 'UTF-16 LE without a byte-order mark (converted)' };
  if (sniffed === 'be')
    return { text: utf16(bytes, true), encoding: 'UTF-16 BE without a byte-order mark (converted)' };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'UTF-8' };
  } catch {
    const line = firstBadUtf8Line(bytes);
    throw new InputError(
      `${name}:${line}: not UTF-8 text (Latin-1 or Windows-1252, perhaps): save the file as UTF-8 and try again`,
      { path, line, encoding: 'unknown' },
    );
  }
}

/** A file that cannot be read, by name and reason (no raw "EISDIR: illegal operation"). */
export class FileReadError extends StudioError {
  constructor(
    readonly path: string,
    what: string,
    reason: string,
    systemCode: string | undefined,
  ) {
    super(`cannot read ${what} ${path}: ${reason}`, systemCode === 'ENOENT' ? 'not_found' : 'io', {
      path,
      systemCode,
    });
  }
}

/** Reads and decodes a user's file; `what` names it in errors ("the training configuration"). */
export function readUserTextFile(path: string, what = 'the file'): DecodedText {
  let bytes: Buffer;
  try {
    if (statSync(path).isDirectory())
      throw new FileReadError(path, what, 'it is a folder, not a file', 'EISDIR');
    bytes = readFileSync(path);
  } catch (error) {
    if (error instanceof FileReadError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : errorText(error);
    throw new FileReadError(path, what, reason, code);
  }
  return decodeText(bytes, path);
}
