/**
 * Hyperparameter checks before training launches: a bad value fails in milliseconds with a
 * message naming the field, instead of minutes later inside the engine.
 */
import type { TrainingConfig } from '../../src-shared/contract';
import { ConfigError } from './errors';

export interface ConfigProblem {
  field: keyof TrainingConfig;
  message: string;
}

const KNOWN_MODULES = new Set([
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
  'c_attn',
  'c_proj',
  'c_fc',
  'query_key_value',
  'dense',
]);

export function checkTrainingConfig(config: TrainingConfig, trainExamples?: number): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const bad = (field: keyof TrainingConfig, message: string): void => {
    problems.push({ field, message });
  };
  const isInt = (v: number): boolean => Number.isInteger(v);

  if (!isInt(config.loraR) || config.loraR < 1 || config.loraR > 256)
    bad('loraR', `LoRA rank must be an integer from 1 to 256 (got ${config.loraR})`);
  if (!(config.loraAlpha > 0)) bad('loraAlpha', `LoRA alpha must be > 0 (got ${config.loraAlpha})`);
  if (!(config.loraDropout >= 0 && config.loraDropout < 1))
    bad('loraDropout', `LoRA dropout must be in [0, 1) (got ${config.loraDropout})`);
  if (config.targetModules.length === 0) bad('targetModules', 'name at least one target module, e.g. q_proj');
  for (const m of config.targetModules) {
    if (!KNOWN_MODULES.has(m) && !/^[A-Za-z_][A-Za-z0-9_.]*$/.test(m))
      bad('targetModules', `"${m}" is not a module name`);
  }
  if (!(config.learningRate > 0 && config.learningRate <= 1e-2))
    bad(
      'learningRate',
      `learning rate must be in (0, 0.01] (got ${config.learningRate}); LoRA typically uses 1e-4 to 1e-3`,
    );
  if (!isInt(config.batchSize) || config.batchSize < 1 || config.batchSize > 512)
    bad('batchSize', `batch size must be an integer from 1 to 512 (got ${config.batchSize})`);
  if (!isInt(config.gradAccum) || config.gradAccum < 1)
    bad('gradAccum', `gradient accumulation must be an integer >= 1 (got ${config.gradAccum})`);
  if (!isInt(config.maxSteps) || config.maxSteps < 1)
    bad('maxSteps', `max steps must be an integer >= 1 (got ${config.maxSteps})`);
  if (!isInt(config.warmupSteps) || config.warmupSteps < 0)
    bad('warmupSteps', `warm-up steps must be an integer >= 0 (got ${config.warmupSteps})`);
  else if (isInt(config.maxSteps) && config.warmupSteps >= config.maxSteps)
    bad('warmupSteps', `warm-up (${config.warmupSteps}) must be shorter than max steps (${config.maxSteps})`);
  if (!isInt(config.maxLength) || config.maxLength < 16 || config.maxLength > 32768)
    bad('maxLength', `max length must be an integer from 16 to 32768 tokens (got ${config.maxLength})`);
  if (!isInt(config.evalEvery) || config.evalEvery < 1)
    bad('evalEvery', `eval every must be an integer >= 1 step (got ${config.evalEvery})`);
  if (!isInt(config.saveEvery) || config.saveEvery < 1)
    bad('saveEvery', `save every must be an integer >= 1 step (got ${config.saveEvery})`);
  if (!['linear', 'cosine', 'constant'].includes(config.schedule))
    bad('schedule', `schedule must be linear, cosine or constant (got ${String(config.schedule)})`);
  if (!isInt(config.seed) || config.seed < 0)
    bad('seed', `seed must be an integer >= 0 (got ${config.seed})`);
  if (trainExamples !== undefined) {
    if (trainExamples < 1)
      bad('batchSize', 'there are no training examples: run generate, audit and split first');
    else if (config.batchSize > trainExamples)
      bad(
        'batchSize',
        `batch size ${config.batchSize} is larger than the ${trainExamples} training examples`,
      );
  }
  return problems;
}

/** Throws one ConfigError listing every problem. */
export function validateTrainingConfig(config: TrainingConfig, trainExamples?: number): void {
  const problems = checkTrainingConfig(config, trainExamples);
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new ConfigError(
      `invalid training configuration: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
      first.field,
      { problems },
    );
  }
}
