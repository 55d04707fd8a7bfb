/**
 * Runs on imported data (`pipeline --data FILE`, or a run created from the Data page): the
 * questions step takes the file's questions instead of filling the persona's templates, and
 * with use 'teacher' the generate step stores the file's answers as the teacher data instead of
 * asking a teacher. The audit, split, training and evaluation then run as for any run; the
 * held-out questions' imported answers are the teacher's answers evaluation compares with.
 *
 * The questions step keeps what it took in the run folder (imported_data.jsonl), so a resumed
 * run reads the same pairs even if the file has changed since, and where it came from
 * (imported_source.json: the original path, its sha256 as read, the layout and the counts),
 * which the report names.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ImportFormat, ImportUse } from '../../../src-shared/contract';
import { PipelineError, StepOrderError } from '../../core/errors';
import type { ImportedDataConfig } from '../../core/run-config';
import { readJsonl, writeJsonl, writeTeacherData } from '../../datasets';
import { importData, mulberry32, normalizeText, shuffled, type ImportedPair } from '../../questions';
import type { QuestionRecord } from '../../store';
import type { StepContext } from '../runner';
import { saveQuestions } from '../steps/generate';
import type { PipelineServices } from '../services';
import { IMPORTED_SOURCE_FILE, type ImportedSource } from '../../datasets/imported-source';

/** The run's copy of the pairs it took. */
export const IMPORTED_DATA_FILE = 'imported_data.jsonl';
export {
  IMPORTED_SOURCE_FILE,
  readImportedSource,
  type ImportedSource,
} from '../../datasets/imported-source';

/** Fewer pairs than this cannot make a training set and a held-out set. */
export const MIN_IMPORTED_PAIRS = 4;
/** The category imported questions are stored under (the files carry none). */
export const IMPORTED_CATEGORY = 'imported';

interface ImportedRow {
  id: number;
  question: string;
  answer: string;
  source: string;
  heldout: boolean;
  thinking?: boolean;
  /** The conversation before the question (a later turn of a multi-turn record). */
  history?: ImportedPair['history'];
}

/**
 * Reads the file once to check it (line-numbered InputErrors for a malformed one) and returns
 * the configuration a run stores: the path made absolute and the layout resolved.
 */
export function checkImportedData(
  path: string,
  opts: { format?: ImportFormat | null; character?: string | null; use: ImportUse },
): { config: ImportedDataConfig; pairs: number; skipped: number } {
  const absolute = resolve(path);
  const result = importData(absolute, { format: opts.format ?? null, character: opts.character ?? null });
  if (result.pairs.length < MIN_IMPORTED_PAIRS)
    throw new PipelineError(
      `${absolute} gave ${result.pairs.length} question -> answer pairs (${result.skipped.length} lines skipped); a run needs at least ${MIN_IMPORTED_PAIRS}`,
      { path: absolute, pairs: result.pairs.length },
    );
  return {
    config: {
      path: absolute,
      format: result.format,
      use: opts.use,
      character: result.format === 'characterllm' ? (opts.character?.trim() ?? null) : null,
    },
    pairs: result.pairs.length,
    skipped: result.skipped.length,
  };
}

/**
 * The pairs a run takes: at most `count` (a seeded sample, in file order), `heldOut` of them
 * held out, chosen among questions asked only once so no held-out question is also trained on,
 * and never a later turn of a conversation (its question leans on the turns before it).
 */
export function selectImported(
  pairs: readonly ImportedPair[],
  count: number,
  heldOut: number,
  seed: number,
): ImportedRow[] {
  const rand = mulberry32(seed);
  const order = shuffled(
    pairs.map((_, i) => i),
    rand,
  );
  const taken = order.slice(0, Math.min(count, pairs.length)).sort((a, b) => a - b);
  const chosen = taken.map((i) => pairs[i] as ImportedPair);
  const asked = new Map<string, number>();
  for (const p of chosen)
    asked.set(normalizeText(p.question), (asked.get(normalizeText(p.question)) ?? 0) + 1);
  const candidates = chosen
    .map((p, i) => i)
    .filter(
      (i) =>
        asked.get(normalizeText((chosen[i] as ImportedPair).question)) === 1 &&
        !(chosen[i] as ImportedPair).history,
    );
  const held = new Set(shuffled(candidates, rand).slice(0, heldOut));
  return chosen.map((p, i) => ({
    id: i + 1,
    question: p.question,
    answer: p.answer,
    source: p.source,
    heldout: held.has(i),
    ...(p.thinking ? { thinking: true } : {}),
    ...(p.history ? { history: p.history } : {}),
  }));
}

function importedConfig(ctx: StepContext): ImportedDataConfig {
  const cfg = ctx.run.config.importedData;
  if (!cfg) throw new PipelineError(`run ${ctx.run.id} has no imported data`, { runId: ctx.run.id });
  return cfg;
}

/** questions step of a run on imported data. */
export async function importedQuestionsStep(studio: PipelineServices, ctx: StepContext): Promise<void> {
  const { store } = studio;
  const existing = store.questions.countByRun(ctx.run.id);
  if (existing > 0) {
    ctx.log(`questions already stored (${existing}); keeping them so answers stay matched`);
    ctx.progress(existing, existing);
    return;
  }
  const cfg = importedConfig(ctx);
  const bytes = readFileSync(cfg.path);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const result = importData(cfg.path, { format: cfg.format, character: cfg.character });
  if (result.pairs.length < MIN_IMPORTED_PAIRS)
    throw new PipelineError(
      `${cfg.path} gave ${result.pairs.length} question -> answer pairs; a run needs at least ${MIN_IMPORTED_PAIRS}`,
      { path: cfg.path },
    );
  const sc = ctx.scale;
  const count = Math.min(sc.questions, result.pairs.length);
  // The scale's held-out share, at least one question, and never the whole set.
  const heldOut = Math.min(count - 2, Math.max(1, Math.round((count * sc.heldOut) / sc.questions)));
  const rows = selectImported(result.pairs, count, heldOut, sc.generation.seed);
  writeJsonl(join(ctx.paths.dir, IMPORTED_DATA_FILE), rows);
  const held = rows.filter((r) => r.heldout).length;
  const source: ImportedSource = {
    path: cfg.path,
    sha256,
    bytes: bytes.length,
    format: result.format,
    layout: result.layout,
    use: cfg.use,
    pairs: result.pairs.length,
    taken: rows.length,
    heldOut: held,
    skipped: result.skipped.length,
  };
  writeFileSync(join(ctx.paths.dir, IMPORTED_SOURCE_FILE), `${JSON.stringify(source, null, 2)}\n`);
  const questions: QuestionRecord[] = rows.map((r) => ({
    id: r.id,
    category: IMPORTED_CATEGORY,
    text: r.question,
    heldout: r.heldout,
    template: `import:${r.source}`,
  }));
  saveQuestions(studio, ctx, questions);
  ctx.log(
    `questions: ${rows.length} of ${result.pairs.length} pairs from ${cfg.path} (sha256 ${sha256}; ${result.layout}; ${held} held out; ${result.skipped.length} lines skipped); answers ${cfg.use === 'teacher' ? 'imported as teacher data' : 'left for the teacher to give'}`,
  );
  ctx.progress(rows.length, rows.length);
}

/** generate step of a run whose teacher data is imported: the stored copy's answers. */
export async function importedGenerateStep(studio: PipelineServices, ctx: StepContext): Promise<void> {
  const { store } = studio;
  const runId = ctx.run.id;
  const cfg = importedConfig(ctx);
  const questions = store.questions.listByRun(runId);
  const copy = join(ctx.paths.dir, IMPORTED_DATA_FILE);
  if (questions.length === 0 || !existsSync(copy))
    throw new StepOrderError('generate', 'the imported questions (run the questions step)');
  const rows = new Map(readJsonl<ImportedRow>(copy, { strict: true }).rows.map((r) => [r.id, r]));
  const added = store.examples.insertMany(
    runId,
    questions.flatMap((q) => {
      const row = rows.get(q.id);
      return row
        ? [
            {
              questionId: q.id,
              answer: row.answer,
              promptTokens: 0,
              completionTokens: 0,
              provider: 'import',
              model: `${cfg.format}:${row.source}`,
              latencyMs: 0,
              thinking: row.thinking === true,
            },
          ]
        : [];
    }),
  );
  writeTeacherData(ctx.paths.teacherData, store.examples.listByRun(runId));
  ctx.log(`teacher data: ${added} imported answers from ${cfg.path} (no teacher was asked)`);
  ctx.progress(questions.length, questions.length);
}
