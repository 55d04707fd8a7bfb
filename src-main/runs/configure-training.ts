/**
 * Changing a run's training configuration before its train step (the Training page's form,
 * `character train <run> --config training_config.yaml`): validated here, once, against the
 * run's data, and stored in the run's config. The form's base model is honoured: it becomes the
 * run's student model, so training, evaluation and export all use it.
 */
import type { TrainingConfig } from '../../src-shared/contract';
import { ConfigError } from '../core/errors';
import { formatModelSpec, parseModelSpec } from '../core/model-spec';
import { validateTrainingConfig } from '../core/training-config';
import type { RunRecord } from '../store';
import type { PipelineServices } from '../pipeline/services';

export function configureTraining(
  services: Pick<PipelineServices, 'store'>,
  run: RunRecord,
  config: TrainingConfig,
): RunRecord {
  let studentModel;
  try {
    studentModel = parseModelSpec(config.baseModel.trim() === '' ? 'default' : config.baseModel);
  } catch (error) {
    throw new ConfigError(`base model: ${(error as Error).message}`, 'baseModel');
  }
  const training = { ...config, baseModel: formatModelSpec(studentModel) };
  const trainRows = services.store.splits.counts(run.id).train;
  validateTrainingConfig(training, trainRows > 0 ? trainRows : undefined);
  return services.store.runs.update(run.id, {
    config: { ...run.config, studentModel, scaleConfig: { ...run.config.scaleConfig, training } },
  });
}
