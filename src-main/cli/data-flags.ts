/**
 * `pipeline --data FILE [--data-as teacher|questions] [--data-format F] [--character NAME]`:
 * a run that takes its questions (and, as teacher data, its answers) from a file instead of the
 * persona's templates and a teacher. The file is read once here, so a malformed one fails with
 * its line before any run is created.
 */
import { IMPORT_FORMATS, type ImportFormat, type ImportUse } from '../../src-shared/contract';
import type { ImportedDataConfig } from '../core/run-config';
import { checkImportedData } from '../pipeline/recipes/imported';
import { CliUsageError, type CliContext } from './context';

export const IMPORTED_DATA_FLAGS = {
  data: { type: 'string' },
  'data-as': { type: 'string' },
  'data-format': { type: 'string' },
  character: { type: 'string' },
} as const;

export interface ImportedDataFlagValues {
  data?: string;
  'data-as'?: string;
  'data-format'?: string;
  character?: string;
}

const USES: readonly ImportUse[] = ['teacher', 'questions'];

/** The run's imported data from the flags (null without --data); `personaName` is Character-LLM's default character. */
export function importedDataOption(
  values: ImportedDataFlagValues,
  personaName: string,
  ctx: CliContext,
): ImportedDataConfig | null {
  if (!values.data) {
    for (const flag of ['data-as', 'data-format', 'character'] as const)
      if (values[flag] !== undefined)
        throw new CliUsageError(`pipeline: --${flag} goes with --data FILE`, 'pipeline');
    return null;
  }
  const use = values['data-as'] ?? 'teacher';
  if (!(USES as readonly string[]).includes(use))
    throw new CliUsageError(`pipeline: --data-as must be teacher or questions (got "${use}")`, 'pipeline');
  const format = values['data-format'];
  if (format !== undefined && !(IMPORT_FORMATS as readonly string[]).includes(format))
    throw new CliUsageError(
      `pipeline: unknown --data-format "${format}": use ${IMPORT_FORMATS.join(', ')} (or leave it out to detect it)`,
      'pipeline',
    );
  const checked = checkImportedData(values.data, {
    format: (format as ImportFormat | undefined) ?? null,
    character: values.character ?? personaName,
    use: use as ImportUse,
  });
  ctx.note(
    `data: ${checked.pairs} pairs from ${checked.config.path} (${checked.config.format}${checked.skipped ? `, ${checked.skipped} lines skipped` : ''}); ${use === 'teacher' ? 'its answers are the teacher data (no generation)' : 'the teacher answers its questions'}`,
  );
  return checked.config;
}
