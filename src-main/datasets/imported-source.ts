/**
 * imported_source.json in a run folder: where a run's imported data came from (the original path,
 * its sha256 as read, the layout and the counts). Written by the imported-data recipe's questions
 * step, read by the report.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImportFormat, ImportUse } from '../../src-shared/contract';

/** Where the run's imported data came from, written by the questions step. */
export const IMPORTED_SOURCE_FILE = 'imported_source.json';

/** imported_source.json: the file as the questions step read it, and what the run took of it. */
export interface ImportedSource {
  /** The original file, absolute. */
  path: string;
  /** sha256 of the original file's bytes when the questions step read it. */
  sha256: string;
  bytes: number;
  format: ImportFormat;
  /** The layout's name ("ShareGPT (conversations)"). */
  layout: string;
  use: ImportUse;
  /** Question -> answer pairs in the file, how many the run took, and of those held out. */
  pairs: number;
  taken: number;
  heldOut: number;
  /** Lines or entries of the file that could not be read as a pair. */
  skipped: number;
}

/** The run's imported_source.json, or null (no imported data, or a run from before it). */
export function readImportedSource(runDir: string): ImportedSource | null {
  const path = join(runDir, IMPORTED_SOURCE_FILE);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ImportedSource;
  } catch {
    return null;
  }
}
