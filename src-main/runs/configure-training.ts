/**
 * Changing a run's training configuration before its train step (the Training page's form,
 * `character train <run> --config training_config.yaml`): validated here, once, against the
 * run's data, and stored in the run's config. The form's base model is honoured: it becomes the
 * run's student model, so training, evaluation and export all use it.
 */
import type { TrainingConfig } from '../../src-shared/contract';
import { ConfigError, errorMessage } from '../core/errors';
import { formatModelSpec, parseModelSpec } from '../core/model-spec';
import type { RunConfig } from '../core/run-config';
import { validateTrainingConfig } from '../core/training-config';
import type { RunRecord } from '../store';
import type { PipelineServices } from '../pipeline/services';

/**
 * The run's config with this training configuration in it, checked against `trainRows` (the
 * run's training split; 0 when it is not split yet). Pure: the caller saves it.
 */
export function withTrainingConfig(
  runConfig: RunConfig,
  config: TrainingConfig,
  trainRows: number,
): RunConfig {
  let studentModel;
  try {
    studentModel = parseModelSpec(config.baseModel.trim() === '' ? 'default' : config.baseModel);
  } catch (error) {
    throw new ConfigError(`base model: ${errorMessage(error)}`, 'baseModel');
  }
  const training = { ...config, baseModel: formatModelSpec(studentModel) };
  validateTrainingConfig(training, trainRows > 0 ? trainRows : undefined);
  return { ...runConfig, studentModel, scaleConfig: { ...runConfig.scaleConfig, training } };
}

/** Checks and stores a run's new training configuration (the CLI's `train --config`). */
export function configureTraining(
  services: Pick<PipelineServices, 'store'>,
  run: RunRecord,
  config: TrainingConfig,
): RunRecord {
  const trainRows = services.store.splits.counts(run.id).train;
  return services.store.runs.update(run.id, { config: withTrainingConfig(run.config, config, trainRows) });
}
