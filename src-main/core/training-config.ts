/**
 * Hyperparameter checks before training launches: a bad value fails in milliseconds with a
 * message naming the field, instead of minutes later inside the engine.
 */
import { TRAINING_OBJECTIVES, type TrainingConfig } from '../../src-shared/contract';
import { ConfigError } from './errors';
import { MAX_CHECKPOINTS_PER_JOB, MAX_GRAD_ACCUM, MAX_KD_WEIGHT, MAX_SEED, MAX_TRAIN_STEPS } from './limits';
import { joinField, type Reader } from './validate';

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

/** Every out-of-range hyperparameter, each naming its field. */
export function checkTrainingConfig(config: TrainingConfig): ConfigProblem[] {
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
  if (!isInt(config.gradAccum) || config.gradAccum < 1 || config.gradAccum > MAX_GRAD_ACCUM)
    bad(
      'gradAccum',
      `gradient accumulation must be an integer from 1 to ${MAX_GRAD_ACCUM} (got ${config.gradAccum})`,
    );
  if (!isInt(config.maxSteps) || config.maxSteps < 1 || config.maxSteps > MAX_TRAIN_STEPS)
    bad('maxSteps', `max steps must be an integer from 1 to ${MAX_TRAIN_STEPS} (got ${config.maxSteps})`);
  if (!isInt(config.warmupSteps) || config.warmupSteps < 0)
    bad('warmupSteps', `warm-up steps must be an integer >= 0 (got ${config.warmupSteps})`);
  else if (isInt(config.maxSteps) && config.warmupSteps >= config.maxSteps)
    bad('warmupSteps', `warm-up (${config.warmupSteps}) must be shorter than max steps (${config.maxSteps})`);
  if (!isInt(config.maxLength) || config.maxLength < 16 || config.maxLength > 32768)
    bad('maxLength', `max length must be an integer from 16 to 32768 tokens (got ${config.maxLength})`);
  if (!isInt(config.evalEvery) || config.evalEvery < 1 || config.evalEvery > MAX_TRAIN_STEPS)
    bad(
      'evalEvery',
      `eval every must be an integer from 1 to ${MAX_TRAIN_STEPS} steps (got ${config.evalEvery})`,
    );
  if (!isInt(config.saveEvery) || config.saveEvery < 1 || config.saveEvery > MAX_TRAIN_STEPS)
    bad(
      'saveEvery',
      `save every must be an integer from 1 to ${MAX_TRAIN_STEPS} steps (got ${config.saveEvery})`,
    );
  else if (isInt(config.maxSteps) && Math.ceil(config.maxSteps / config.saveEvery) > MAX_CHECKPOINTS_PER_JOB)
    bad(
      'saveEvery',
      `saving every ${config.saveEvery} steps of ${config.maxSteps} writes ${Math.ceil(config.maxSteps / config.saveEvery)} checkpoints; at most ${MAX_CHECKPOINTS_PER_JOB} per job (save every ${Math.ceil(config.maxSteps / MAX_CHECKPOINTS_PER_JOB)} steps or more)`,
    );
  if (!['linear', 'cosine', 'constant'].includes(config.schedule))
    bad('schedule', `schedule must be linear, cosine or constant (got ${String(config.schedule)})`);
  if (!(TRAINING_OBJECTIVES as readonly string[]).includes(config.objective))
    bad('objective', `objective must be ${TRAINING_OBJECTIVES.join(', ')} (got ${String(config.objective)})`);
  if (!(config.kdWeight >= 0 && config.kdWeight <= MAX_KD_WEIGHT))
    bad('kdWeight', `kd weight must be from 0 to ${MAX_KD_WEIGHT} (got ${config.kdWeight})`);
  if (!isInt(config.seed) || config.seed < 0 || config.seed > MAX_SEED)
    bad('seed', `seed must be an integer from 0 to ${MAX_SEED} (got ${config.seed})`);
  return problems;
}

/** What the run's data allows: a batch no larger than the training examples. */
export function checkTrainingData(config: TrainingConfig, trainExamples: number): ConfigProblem[] {
  if (trainExamples < 1)
    return [
      { field: 'batchSize', message: 'there are no training examples: run generate, audit and split first' },
    ];
  if (config.batchSize > trainExamples)
    return [
      {
        field: 'batchSize',
        message: `batch size ${config.batchSize} is larger than the ${trainExamples} training examples`,
      },
    ];
  return [];
}

/** The train step's check: the configuration was validated when it entered; the data may have changed since. */
export function validateTrainingData(config: TrainingConfig, trainExamples: number): void {
  throwProblems(checkTrainingData(config, trainExamples));
}

/** Throws one ConfigError listing every problem (with the data's, when the example count is known). */
export function validateTrainingConfig(config: TrainingConfig, trainExamples?: number): void {
  throwProblems([
    ...checkTrainingConfig(config),
    ...(trainExamples !== undefined ? checkTrainingData(config, trainExamples) : []),
  ]);
}

function throwProblems(problems: ConfigProblem[]): void {
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new ConfigError(
      `invalid training configuration: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
      first.field,
      { problems },
    );
  }
}

const TRAINING_KEYS: readonly (keyof TrainingConfig)[] = [
  'baseModel',
  'objective',
  'kdWeight',
  'loraR',
  'loraAlpha',
  'loraDropout',
  'targetModules',
  'learningRate',
  'warmupSteps',
  'schedule',
  'batchSize',
  'gradAccum',
  'maxSteps',
  'maxLength',
  'evalEvery',
  'saveEvery',
  'seed',
];

/**
 * A TrainingConfig from untyped input (a stored run, a handler's params): every field present
 * with its type, no unknown keys, every range checked. Errors name the field by its full path.
 */
export function parseTrainingConfig(raw: unknown, reader: Reader, field: string): TrainingConfig {
  const o = reader.object(raw, field);
  reader.known(o, TRAINING_KEYS, field);
  const config: TrainingConfig = {
    baseModel: reader.string(o, 'baseModel', field),
    objective: reader.oneOf(o, 'objective', field, TRAINING_OBJECTIVES),
    kdWeight: reader.number(o, 'kdWeight', field),
    loraR: reader.number(o, 'loraR', field),
    loraAlpha: reader.number(o, 'loraAlpha', field),
    loraDropout: reader.number(o, 'loraDropout', field),
    targetModules: reader.strings(o, 'targetModules', field),
    learningRate: reader.number(o, 'learningRate', field),
    warmupSteps: reader.number(o, 'warmupSteps', field),
    schedule: reader.oneOf(o, 'schedule', field, ['linear', 'cosine', 'constant'] as const),
    batchSize: reader.number(o, 'batchSize', field),
    gradAccum: reader.number(o, 'gradAccum', field),
    maxSteps: reader.number(o, 'maxSteps', field),
    maxLength: reader.number(o, 'maxLength', field),
    evalEvery: reader.number(o, 'evalEvery', field),
    saveEvery: reader.number(o, 'saveEvery', field),
    seed: reader.number(o, 'seed', field),
  };
  const problem = checkTrainingConfig(config)[0];
  if (problem) reader.fail(joinField(field, problem.field), `is invalid: ${problem.message}`);
  return config;
}
