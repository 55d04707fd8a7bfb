/**
 * The training flags `pipeline`, `train` and `demo` share: --objective, --kd-weight and
 * --max-steps, read into a partial TrainingConfig with usage errors that name the flag.
 */
import { TRAINING_OBJECTIVES, type TrainingConfig, type TrainingObjective } from '../../src-shared/contract';
import { CliUsageError } from './context';

export const TRAINING_FLAGS = {
  objective: { type: 'string' },
  'kd-weight': { type: 'string' },
  'max-steps': { type: 'string' },
} as const;

export interface TrainingFlagValues {
  objective?: string;
  'kd-weight'?: string;
  'max-steps'?: string;
}

export function trainingOverrides(command: string, values: TrainingFlagValues): Partial<TrainingConfig> {
  const out: Partial<TrainingConfig> = {};
  if (values.objective !== undefined) {
    if (!(TRAINING_OBJECTIVES as readonly string[]).includes(values.objective))
      throw new CliUsageError(
        `${command}: --objective must be ${TRAINING_OBJECTIVES.join(', ')} (got "${values.objective}")`,
        command,
      );
    out.objective = values.objective as TrainingObjective;
  }
  if (values['kd-weight'] !== undefined) {
    const w = Number(values['kd-weight']);
    if (values['kd-weight'].trim() === '' || !Number.isFinite(w) || w < 0)
      throw new CliUsageError(
        `${command}: --kd-weight must be a number >= 0 (got "${values['kd-weight']}")`,
        command,
      );
    out.kdWeight = w;
  }
  if (values['max-steps'] !== undefined) {
    const n = Number(values['max-steps']);
    if (!Number.isInteger(n) || n < 1)
      throw new CliUsageError(
        `${command}: --max-steps must be a whole number >= 1 (got "${values['max-steps']}")`,
        command,
      );
    out.maxSteps = n;
  }
  return out;
}
