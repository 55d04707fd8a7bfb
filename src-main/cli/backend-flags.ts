/**
 * `pipeline --backend local|tinker [--tinker-model NAME] [--tinker-teacher NAME]`: where a new
 * run trains. On Tinker the models are named as Tinker names them; by default the hub ids of
 * --model and --teacher (hub:owner/name).
 */
import { isTrainingBackend, TRAINING_BACKENDS, type TrainingBackend } from '../core/backend';
import { CliUsageError } from './context';

export const BACKEND_FLAGS = {
  backend: { type: 'string' },
  'tinker-model': { type: 'string' },
  'tinker-teacher': { type: 'string' },
} as const;

export interface BackendFlagValues {
  backend?: string;
  'tinker-model'?: string;
  'tinker-teacher'?: string;
}

/** createRun's backend options from the flags (none for the local default). */
export function backendOption(
  command: string,
  values: BackendFlagValues,
): { backend?: TrainingBackend; tinker?: { baseModel?: string; teacherModel?: string } } {
  const backend = values.backend ?? 'local';
  if (!isTrainingBackend(backend))
    throw new CliUsageError(
      `${command}: unknown backend "${backend}": use ${TRAINING_BACKENDS.join(' or ')}`,
      command,
    );
  const named = values['tinker-model'] !== undefined || values['tinker-teacher'] !== undefined;
  if (backend === 'local') {
    if (named)
      throw new CliUsageError(
        `${command}: --tinker-model and --tinker-teacher need --backend tinker`,
        command,
      );
    return {};
  }
  return {
    backend,
    tinker: {
      ...(values['tinker-model'] ? { baseModel: values['tinker-model'] } : {}),
      ...(values['tinker-teacher'] ? { teacherModel: values['tinker-teacher'] } : {}),
    },
  };
}
