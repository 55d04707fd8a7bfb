/**
 * Bringing question -> answer data in: one entry point for every layout (chat JSONL, ShareGPT,
 * Alpaca, Character-LLM). The layout is detected unless requested; a requested layout the file
 * clearly does not have is an InputError naming the one it has. Lines or entries that give no
 * pair are skipped with their number and the reason, as the Character-LLM import always did.
 */
import type { ImportFormat } from '../../src-shared/contract';
import { InputError } from '../core/errors';
import { characterLlmFromRecords } from './character-llm';
import { pairsFromRecords, type ImportedPair } from './import-formats';
import { LAYOUT_NAMES, readRecords, resolveLayout, type ImportSkip } from './import-records';
import { readTextFile } from './import-text';
import { textWords } from './similarity';

export interface ImportOptions {
  /** Read the file as this layout; detected when absent. */
  format?: ImportFormat | null;
  /** Character-LLM files: whose turns are the answers. */
  character?: string | null;
}

export interface ImportResult {
  path: string;
  format: ImportFormat;
  /** The layout's name, for messages ("chat JSONL (messages)"). */
  layout: string;
  /** How the file was decoded ("UTF-8", "UTF-16 LE (converted)"…). */
  encoding: string;
  /** What `skipped[].at` counts. */
  unit: 'line' | 'entry';
  records: number;
  pairs: ImportedPair[];
  skipped: ImportSkip[];
  /** Records with a system message, dropped (the student learns without one). */
  systemPrompts: number;
  /** Answers whose reasoning (<think>…) was cut out. */
  withThinking: number;
  meanQuestionWords: number;
  meanAnswerWords: number;
}

/** Speakers a wrong --character message lists. */
const SPEAKERS_SHOWN = 12;

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

/** Parses file text already decoded; `path` only names the file in messages. */
export function importText(
  text: string,
  path: string,
  opts: ImportOptions = {},
): Omit<ImportResult, 'encoding'> {
  const set = readRecords(text, path);
  const { format } = resolveLayout(set, opts.format ?? null, path);
  let pairs: ImportedPair[];
  let skipped: ImportSkip[];
  let systemPrompts = 0;
  if (format === 'characterllm') {
    const character = opts.character?.trim();
    if (!character)
      throw new InputError(
        `${path || 'the file'} is ${LAYOUT_NAMES.characterllm}: name the character whose turns are the answers (e.g. Beethoven)`,
        { path, format, field: 'character' },
      );
    const got = characterLlmFromRecords(set, character);
    if (got.pairs.length === 0 && got.stats.scenesTotal > 0 && got.stats.scenes === 0) {
      const shown = got.speakers.slice(0, SPEAKERS_SHOWN);
      throw new InputError(
        `${path || 'the file'}: ${character} does not speak in any of its ${got.stats.scenesTotal} scenes; the speakers are ${shown.join(', ')}${got.speakers.length > shown.length ? ` and ${got.speakers.length - shown.length} more` : ''}: pass one of them with --character`,
        { path, format, field: 'character', speakers: shown },
      );
    }
    skipped = got.stats.skipped;
    pairs = got.pairs.map((p) => ({
      question: p.question,
      answer: p.answer,
      source: p.scene,
      location: p.location,
    }));
  } else {
    ({ pairs, skipped, systemPrompts } = pairsFromRecords(set, format));
  }
  return {
    path,
    format,
    layout: LAYOUT_NAMES[format],
    unit: set.unit,
    records: set.records.length + set.broken.length,
    pairs,
    skipped,
    systemPrompts,
    withThinking: pairs.filter((p) => p.thinking).length,
    meanQuestionWords: mean(pairs.map((p) => textWords(p.question).length)),
    meanAnswerWords: mean(pairs.map((p) => textWords(p.answer).length)),
  };
}

/** Reads a local file (UTF-8, or UTF-16 converted) and extracts its question -> answer pairs. */
export function importData(path: string, opts: ImportOptions = {}): ImportResult {
  const { text, encoding } = readTextFile(path);
  return { ...importText(text, path, opts), encoding };
}
