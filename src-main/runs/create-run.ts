/**
 * Creating a run: the persona, models and scale settings chosen now are parsed and validated
 * here, once, and stored as the run's RunConfig (never an API key).
 */
import type { Scale, TrainingConfig } from '../../src-shared/contract';
import type { ModelSpec } from '../../src-shared/engine-protocol';
import { ConfigError } from '../core/errors';
import { formatModelSpec } from '../core/model-spec';
import { ensureRunDir, newRunId } from '../core/paths';
import type { ImportedDataConfig, Recipe, RunConfig } from '../core/run-config';
import { scaleConfig, type ScaleConfig } from '../core/scales';
import { validateTrainingConfig } from '../core/training-config';
import { characterDefaults, validateCharacterOptions } from '../core/character-options';
import type { CharacterRecipeOptions } from '../../src-shared/character';
import { tinkerRunConfig, type TrainingBackend } from '../core/backend';
import type { RunRecord } from '../store';
import type { PipelineServices } from '../pipeline/services';

export interface CreateRunOptions {
  personaId: string;
  scale: Scale;
  teacherModel?: ModelSpec;
  studentModel?: ModelSpec;
  training?: Partial<TrainingConfig>;
  recipe?: Recipe;
  /** Questions (and with use 'teacher', teacher answers) from an imported file; see recipes/imported.ts. */
  importedData?: ImportedDataConfig;
  /** The character recipe's options (mode, merge, introspection sizes) over its scale's defaults. */
  character?: Partial<CharacterRecipeOptions>;
  /** Names the run in its id instead of its scale (the smoke passes: "smoke-small"). */
  label?: string;
  /** Adjusts the scale's settings (after the training overrides, before validation): the smoke passes. */
  adjustScale?: (sc: ScaleConfig) => void;
  /** Where it trains (default local); tinker: the models as Tinker names them (default: hub ids). */
  backend?: TrainingBackend;
  tinker?: { baseModel?: string; teacherModel?: string };
}

/** The character recipe's options of a new run: the scale's defaults with the given ones over them. */
export function characterOptionsFor(
  recipe: Recipe,
  scale: Scale,
  given: Partial<CharacterRecipeOptions> | undefined,
): CharacterRecipeOptions | undefined {
  if (recipe !== 'character') {
    if (given && Object.keys(given).length > 0)
      throw new ConfigError(
        `paper mode, merging and introspection sizes belong to the character recipe, not ${recipe}`,
        'character',
      );
    return undefined;
  }
  const defaults = characterDefaults(scale);
  const options: CharacterRecipeOptions = {
    ...defaults,
    ...given,
    mergeWeights: { ...defaults.mergeWeights, ...given?.mergeWeights },
  };
  validateCharacterOptions(options);
  return options;
}

export function createRun(
  services: Pick<PipelineServices, 'dataDir' | 'settings' | 'store' | 'personas'>,
  opts: CreateRunOptions,
): RunRecord {
  const persona = services.personas.get(opts.personaId);
  const settings = services.settings.all();
  const studentModel = opts.studentModel ?? settings.studentModel;
  const teacherModel = opts.teacherModel ?? opts.studentModel ?? settings.teacherModel;
  const recipe = opts.recipe ?? 'distill';
  const sc = scaleConfig(opts.scale);
  const backend = opts.backend ?? 'local';
  const tinker = backend === 'tinker' ? tinkerRunConfig(opts.tinker ?? {}, studentModel, teacherModel) : null;
  // On the tinker backend the teacher samples on Tinker too, unless an endpoint is set.
  const teacherProvider =
    settings.teacherProvider === 'openai' && settings.openai ? 'openai' : tinker ? 'tinker' : 'local';
  // The objectives are the distill recipe's; the others train with SFT (and DPO) on text.
  const requested = opts.training?.objective;
  if (recipe !== 'distill' && requested !== undefined && requested !== 'sft') {
    throw new ConfigError(
      `the ${recipe} recipe trains on text (${recipe === 'character' ? 'DPO, then SFT' : 'SFT'}); the ${requested} objective is the distill recipe's`,
      'objective',
    );
  }
  const imported = opts.importedData;
  if (imported && recipe === 'good-pairs')
    throw new ConfigError(
      'the good-pairs recipe trains on approved pairs, not on imported data',
      'importedData',
    );
  // Imported answers come without the teacher's token distributions: kd cannot use them.
  const importedTeacher = imported?.use === 'teacher';
  if (importedTeacher && requested === 'kd')
    throw new ConfigError(
      "the kd objective needs the teacher's token distributions, which imported answers do not have: use sft or on-policy",
      'objective',
    );
  // kd can use an endpoint that returns top_logprobs (vLLM, SGLang: topLogprobs in its settings).
  const endpointTopk = teacherProvider === 'openai' && (settings.openai?.topLogprobs ?? 0) > 0;
  // The scale's objective (kd, chosen by measurement: README "Choosing the objective") is the
  // default where the teacher's distributions exist; an endpoint without them, or imported
  // answers, fall back to sft. An objective asked for by name is never replaced.
  const noDistributions = (teacherProvider === 'openai' && !endpointTopk) || importedTeacher;
  const objective =
    recipe !== 'distill'
      ? 'sft'
      : (requested ?? (noDistributions && sc.training.objective !== 'sft' ? 'sft' : sc.training.objective));
  if (teacherProvider === 'openai' && objective !== 'sft' && !(objective === 'kd' && endpointTopk)) {
    throw new ConfigError(
      `the ${objective} objective needs the teacher's token distributions, which this OpenAI-compatible endpoint does not give: use sft, a local teacher${objective === 'kd' ? ', or set topLogprobs in the endpoint settings' : ''}`,
      'objective',
    );
  }
  // The student model is the run's; the training config records it as its base.
  sc.training = { ...sc.training, ...opts.training, objective, baseModel: formatModelSpec(studentModel) };
  opts.adjustScale?.(sc);
  validateTrainingConfig(sc.training);
  const character = characterOptionsFor(recipe, opts.scale, opts.character);
  const config: RunConfig = {
    recipe,
    personaName: persona.name,
    teacherModel,
    studentModel,
    teacherProvider,
    teacherEndpoint:
      teacherProvider === 'openai' && settings.openai
        ? { baseUrl: settings.openai.baseUrl, model: settings.openai.model }
        : null,
    scaleConfig: sc,
    ...(imported ? { importedData: imported } : {}),
    ...(character ? { character } : {}),
    ...(tinker ? { backend, tinker } : {}),
  };
  const id = newRunId(persona.id, opts.label ?? opts.scale);
  const paths = ensureRunDir(services.dataDir, id);
  return services.store.runs.create({
    id,
    personaId: persona.id,
    personaVersion: persona.version,
    scale: opts.scale,
    dir: paths.dir,
    config,
  });
}
