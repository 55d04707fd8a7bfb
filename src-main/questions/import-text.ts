/**
 * The text of a data file to import, decoded as core/text-file.ts does for every file a user
 * brings (UTF-8, UTF-16, UTF-32, with or without a byte-order mark); an unreadable file is a
 * QuestionsError naming it.
 */
import { readFileSync } from 'node:fs';
import { decodeText, type DecodedText } from '../core/text-file';
import { QuestionsError } from './templates';
import { errorText } from '../core/errors';

export { decodeText, type DecodedText };

/** Reads and decodes a file; one that cannot be read is a QuestionsError ('io') naming it. */
export function readTextFile(path: string): DecodedText {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new QuestionsError(`Cannot read ${path}: ${errorText(err)}`, { path });
  }
  return decodeText(bytes, path);
}
