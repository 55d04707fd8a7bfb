/**
 * The imports folder (<data folder>/imports): what `character import` and the Data page write
 * (chat JSONL, one pair a line, no system message) and what a run can take its data from.
 * A write goes through a temporary file and a rename, and never replaces an earlier import
 * unless asked to: a failed import leaves the last good one as it was.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import type { ImportedFile, ImportSummary } from '../../src-shared/contract';
import { ConflictError, InputError } from '../core/errors';
import type { ImportResult } from '../questions';
import { toChatRow } from './files';
import { countJsonlRows, writeJsonlAtomic } from './jsonl';

/** Skipped lines and pairs a summary lists (the counts cover them all). */
const SUMMARY_SKIPPED = 50;
const SUMMARY_PREVIEW = 5;

export function importsDir(dataDir: string): string {
  return join(dataDir, 'imports');
}

/** A file-name part that keeps letters of every script ("Чайковский" stays itself). */
function fileSlug(text: string): string {
  const slug = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  return slug.slice(0, 64) || 'import';
}

/** <imports>/<format>-<character or file name>.jsonl */
export function defaultImportPath(
  dataDir: string,
  result: Pick<ImportResult, 'format' | 'path'>,
  character?: string | null,
): string {
  const name = character?.trim() || basename(result.path, extname(result.path));
  return join(importsDir(dataDir), `${result.format}-${fileSlug(name)}.jsonl`);
}

/** Chat rows of an import, with where each pair came from. */
export function importedRows(result: Pick<ImportResult, 'format' | 'pairs'>): Record<string, unknown>[] {
  return result.pairs.map((p) => ({
    ...toChatRow(p.question, p.answer),
    ...(result.format === 'characterllm'
      ? { scene: p.source, location: p.location ?? null }
      : { source: p.source }),
    ...(p.thinking ? { thinking: true } : {}),
  }));
}

/** Whether two paths name one file (the same path, or a link to it). */
function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/**
 * An output that is the file being imported (whatever --force says: the import would replace
 * its own source) or a folder: refused, naming which, before anything is written.
 */
export function checkImportOutput(source: string, out: string): void {
  if (sameFile(source, out))
    throw new ConflictError(
      `${out} is the file being imported: the import would replace its own source; give --out another file`,
      { path: out, source },
    );
  let isDir = false;
  try {
    isDir = statSync(out).isDirectory();
  } catch {
    isDir = false;
  }
  if (isDir)
    throw new InputError(
      `${out} is a folder: give the output a file name, e.g. ${join(out, 'import.jsonl')}`,
      {
        path: out,
      },
    );
}

/**
 * Writes an import's pairs to `out`. An import without pairs writes nothing (InputError); an
 * existing `out` is replaced only with overwrite (ConflictError otherwise).
 */
export function writeImport(result: ImportResult, out: string, opts: { overwrite?: boolean } = {}): void {
  checkImportOutput(result.path, out);
  if (result.pairs.length === 0) {
    const first = result.skipped[0];
    throw new InputError(
      `${result.path} gave no question -> answer pairs${first ? ` (${result.unit} ${first.at}: ${first.reason}; ${result.skipped.length} skipped in all)` : ''}: nothing written`,
      { path: result.path, skipped: result.skipped.length, ...(first ? { [result.unit]: first.at } : {}) },
    );
  }
  if (!opts.overwrite && existsSync(out))
    throw new ConflictError(`${out} already exists (an earlier import): replace it only on purpose`, {
      path: out,
    });
  writeJsonlAtomic(out, importedRows(result), { overwrite: opts.overwrite === true });
}

export function importSummary(result: ImportResult, out: string): ImportSummary {
  return {
    file: result.path,
    out,
    format: result.format,
    layout: result.layout,
    encoding: result.encoding,
    unit: result.unit,
    records: result.records,
    pairs: result.pairs.length,
    skipped: result.skipped.slice(0, SUMMARY_SKIPPED),
    skippedCount: result.skipped.length,
    systemPrompts: result.systemPrompts,
    withThinking: result.withThinking,
    meanQuestionWords: result.meanQuestionWords,
    meanAnswerWords: result.meanAnswerWords,
    preview: result.pairs.slice(0, SUMMARY_PREVIEW).map((p) => ({ question: p.question, answer: p.answer })),
  };
}

/** The .jsonl files of the imports folder, newest first. */
export function listImports(dataDir: string): ImportedFile[] {
  const dir = importsDir(dataDir);
  if (!existsSync(dir)) return [];
  const files: ImportedFile[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.jsonl')) continue;
    const path = join(dir, name);
    const st = statSync(path);
    if (!st.isFile()) continue;
    const pairs = countJsonlRows(path);
    files.push({ path, name, pairs, bytes: st.size, modifiedAt: st.mtime.toISOString() });
  }
  return files.sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt) || a.name.localeCompare(b.name));
}
