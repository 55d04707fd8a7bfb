/**
 * `character import FILE [--format chat|sharegpt|alpaca|characterllm] [--character NAME]
 * [--out FILE] [--force]`: question -> answer pairs from a local file (layout detected unless
 * given), written as chat JSONL ({"messages": [user, assistant]}, no system prompt) to
 * <data folder>/imports/<format>-<name>.jsonl, where `pipeline --data` and the Data page find
 * them. `import-characterllm FILE --character NAME` is `import --format characterllm`.
 * Nothing is written when no pair was found, and an earlier file is replaced only with --force.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { IMPORT_FORMATS, type ImportFormat } from '../../../src-shared/contract';
import { ConflictError } from '../../core/errors';
import { checkImportOutput, defaultImportPath, importSummary, writeImport } from '../../datasets';
import { importData } from '../../questions';
import { parseCommandArgs } from '../args';
import { CliUsageError, type CliContext, type CommandFn } from '../context';

function isImportFormat(value: string): value is ImportFormat {
  return (IMPORT_FORMATS as readonly string[]).includes(value);
}

async function runImport(
  command: string,
  args: string[],
  ctx: CliContext,
  fixed: ImportFormat | null,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(command, args, {
    ...(fixed ? {} : { format: { type: 'string' as const } }),
    character: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
  });
  const requested = fixed ?? (values as { format?: string }).format ?? null;
  const file = positionals[0];
  if (!file)
    throw new CliUsageError(
      `${command}: give the file to import (chat JSONL, ShareGPT, Alpaca or Character-LLM)`,
      command,
    );
  if (requested !== null && !isImportFormat(requested))
    throw new CliUsageError(
      `${command}: unknown format "${requested}": use ${IMPORT_FORMATS.join(', ')} (or leave --format out to detect it)`,
      command,
    );
  if (fixed === 'characterllm' && !values.character)
    throw new CliUsageError(`${command}: name the character, e.g. --character Beethoven`, command);

  const result = importData(resolve(file), { format: requested, character: values.character ?? null });
  const out = values.out
    ? resolve(values.out)
    : defaultImportPath(ctx.dataDir, result, values.character ?? null);
  const unit = result.unit;
  ctx.print(
    `${result.pairs.length} pairs from ${result.records} ${unit === 'line' ? 'lines' : 'entries'} of ${result.layout}${requested ? '' : ' (detected)'}${result.encoding === 'UTF-8' ? '' : `, read as ${result.encoding}`}`,
  );
  ctx.print(
    `mean question ${result.meanQuestionWords.toFixed(1)} words, mean answer ${result.meanAnswerWords.toFixed(1)} words; ${result.skipped.length} ${unit === 'line' ? 'lines' : 'entries'} skipped` +
      (result.systemPrompts ? `; ${result.systemPrompts} system prompts dropped` : '') +
      (result.withThinking ? `; reasoning cut out of ${result.withThinking} answers` : ''),
  );
  for (const s of result.skipped.slice(0, 5)) ctx.note(`skipped ${unit} ${s.at}: ${s.reason}`);
  if (result.skipped.length > 5) ctx.note(`… and ${result.skipped.length - 5} more skipped`);
  if (result.pairs.length === 0) {
    ctx.result({ ...importSummary(result, out), written: false });
    ctx.note(`no pairs: nothing written${existsSync(out) ? ` (${out} is left as it was)` : ''}`);
    return 1;
  }
  checkImportOutput(result.path, out);
  if (existsSync(out) && !values.force)
    throw new ConflictError(
      `${out} already exists (an earlier import): pass --force to replace it, or --out another file`,
      { path: out },
    );
  writeImport(result, out, { overwrite: values.force === true });
  ctx.result({ ...importSummary(result, out), written: true });
  ctx.print(`-> ${out}`);
  return 0;
}

export const importCommand: CommandFn = (args, ctx) => runImport('import', args, ctx, null);

/** The older name: a Character-LLM file, --character required. */
export const importCharacterLlmCommand: CommandFn = (args, ctx) =>
  runImport('import-characterllm', args, ctx, 'characterllm');
