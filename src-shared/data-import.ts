/** Types of bringing data in (the data:import channel and runs:create's data), re-exported by contract.ts. */

/**
 * Layouts of question -> answer data a user can bring in: OpenAI chat JSONL ({"messages"}),
 * ShareGPT ({"conversations"}), Alpaca ({"instruction", "input", "output"}) and Character-LLM
 * (fnlp/character-llm-data, prompted JSONL or generated JSON).
 */
export const IMPORT_FORMATS = ['chat', 'sharegpt', 'alpaca', 'characterllm'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
/** What a run takes from imported data: the pairs as teacher data (no generation), or the questions only. */
export type ImportUse = 'teacher' | 'questions';

/** What an import read and wrote. `skipped[].at` is a 1-based line (JSON Lines) or entry (JSON array). */
export interface ImportSummary {
  /** The file read, and the chat JSONL written (<data folder>/imports/…). */
  file: string;
  out: string;
  format: ImportFormat;
  /** The layout's name, e.g. "chat JSONL (messages)". */
  layout: string;
  /** How the file was decoded, e.g. "UTF-8" or "UTF-16 LE (converted)". */
  encoding: string;
  unit: 'line' | 'entry';
  records: number;
  pairs: number;
  /** The first skipped lines or entries with the reason; skippedCount counts them all. */
  skipped: { at: number; reason: string }[];
  skippedCount: number;
  /** Records whose system message was dropped; answers whose reasoning (<think>…) was cut out. */
  systemPrompts: number;
  withThinking: number;
  meanQuestionWords: number;
  meanAnswerWords: number;
  /** The first few pairs. */
  preview: { question: string; answer: string }[];
}

/** A file in <data folder>/imports: what a run can take its data from. */
export interface ImportedFile {
  path: string;
  name: string;
  /** Non-empty lines (one pair each). */
  pairs: number;
  bytes: number;
  modifiedAt: string;
}
