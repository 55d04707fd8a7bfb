/**
 * The text of a file brought in by the user, whatever it was saved as: UTF-8 (a byte-order mark
 * is dropped), UTF-16 with or without a byte-order mark (converted, and said so), UTF-32 and
 * text that is not UTF-8 at all (refused, naming the encoding, or the first line that is not
 * UTF-8). Windows tools (PowerShell's `>`, Notepad's "Unicode") write UTF-16.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors';
import { QuestionsError } from './templates';

export interface DecodedText {
  text: string;
  /** How the file was read, for messages: "UTF-8", "UTF-8 with a byte-order mark", "UTF-16 LE (converted)"… */
  encoding: string;
}

/** Bytes looked at to recognise UTF-16 written without a byte-order mark. */
const SNIFF_BYTES = 4096;

function utf16(bytes: Buffer, bigEndian: boolean): string {
  const even = bytes.length - (bytes.length % 2);
  const copy = Buffer.from(bytes.subarray(0, even));
  if (bigEndian) copy.swap16();
  return copy.toString('utf16le');
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
    throw new InputError(`${name} is UTF-32 (little-endian): save it as UTF-8 and import it again`, {
      path,
      encoding: 'utf-32le',
    });
  if (b(0) === 0 && b(1) === 0 && b(2) === 0xfe && b(3) === 0xff)
    throw new InputError(`${name} is UTF-32 (big-endian): save it as UTF-8 and import it again`, {
      path,
      encoding: 'utf-32be',
    });
  if (b(0) === 0xef && b(1) === 0xbb && b(2) === 0xbf)
    return { text: bytes.subarray(3).toString('utf8'), encoding: 'UTF-8 with a byte-order mark' };
  if (b(0) === 0xff && b(1) === 0xfe)
    return { text: utf16(bytes.subarray(2), false), encoding: 'UTF-16 LE (converted)' };
  if (b(0) === 0xfe && b(1) === 0xff)
    return { text: utf16(bytes.subarray(2), true), encoding: 'UTF-16 BE (converted)' };
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
      `${name}:${line}: not UTF-8 text (Latin-1 or Windows-1252, perhaps): save the file as UTF-8 and import it again`,
      { path, line, encoding: 'unknown' },
    );
  }
}

/** Reads and decodes a file; one that cannot be read is a QuestionsError ('io') naming it. */
export function readTextFile(path: string): DecodedText {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new QuestionsError(`Cannot read ${path}: ${(err as Error).message}`, { path });
  }
  return decodeText(bytes, path);
}
