/**
 * The training flags `pipeline`, `train` and `demo` share: --objective, --kd-weight and
 * --max-steps, read into a partial TrainingConfig with usage errors that name the flag.
 */
import { TRAINING_OBJECTIVES, type TrainingConfig, type TrainingObjective } from '../../src-shared/contract';
import { MAX_KD_WEIGHT, MAX_TRAIN_STEPS } from '../core/limits';
import { CliUsageError } from './context';
import { numberFlag } from './number-flag';

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
  if (values['kd-weight'] !== undefined)
    out.kdWeight = numberFlag(command, 'kd-weight', values['kd-weight'], { min: 0, max: MAX_KD_WEIGHT });
  if (values['max-steps'] !== undefined)
    out.maxSteps = numberFlag(command, 'max-steps', values['max-steps'], {
      min: 1,
      max: MAX_TRAIN_STEPS,
      integer: true,
    });
  return out;
}
