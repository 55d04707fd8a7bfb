/**
 * Where a run trains: the local engine (the default) or Tinker, the hosted LoRA service of
 * Thinking Machines, through its Python SDK in the engine (engine/character_engine/tinker_backend).
 * A Tinker run names its models as Tinker does (hub ids such as "Qwen/Qwen3-4B-Instruct-2507");
 * the run's local ModelSpecs stay what evaluation, chat and export load the pulled adapter onto,
 * so the student's local model must be the same weights as `tinker.baseModel`.
 */
import type { ModelSpec, TinkerTarget } from '../../src-shared/engine-protocol';
import { ConfigError } from './errors';
import type { SettingsStore } from './settings';
import type { Reader } from './validate';

export const TRAINING_BACKENDS = ['local', 'tinker'] as const;
export type TrainingBackend = (typeof TRAINING_BACKENDS)[number];

export function isTrainingBackend(value: string): value is TrainingBackend {
  return (TRAINING_BACKENDS as readonly string[]).includes(value);
}

/** The models of a Tinker run, as the service names them. */
export interface TinkerRunConfig {
  /** The student's base, trained with LoRA on Tinker. */
  baseModel: string;
  /** The teacher that samples answers (and scores the student's, on-policy); often baseModel. */
  teacherModel: string;
}

/** The Tinker name of a local model: a hub repo id is one; a folder or GGUF file is not. */
export function tinkerModelName(spec: ModelSpec): string | null {
  return spec.source === 'hub' ? spec.repo_id : null;
}

/**
 * The Tinker models of a new run: given names, else the hub ids of its local models (the
 * teacher defaulting to the student, as in prompt distillation).
 */
export function tinkerRunConfig(
  given: { baseModel?: string; teacherModel?: string },
  student: ModelSpec,
  teacher: ModelSpec,
): TinkerRunConfig {
  const baseModel = given.baseModel?.trim() || tinkerModelName(student);
  if (!baseModel)
    throw new ConfigError(
      'a Tinker run needs the student model as Tinker names it: use a hub model (--model hub:owner/name) or say --tinker-model owner/name',
      'tinker.baseModel',
    );
  const teacherModel = given.teacherModel?.trim() || tinkerModelName(teacher) || baseModel;
  return { baseModel, teacherModel };
}

export function parseTinkerRunConfig(raw: unknown, reader: Reader, field: string): TinkerRunConfig {
  const o = reader.object(raw, field);
  reader.known(o, ['baseModel', 'teacherModel'], field);
  return {
    baseModel: reader.string(o, 'baseModel', field),
    teacherModel: reader.string(o, 'teacherModel', field),
  };
}

/** How the engine reaches Tinker: the settings' key and address (never stored with a run). */
export function tinkerConnection(settings: SettingsStore): Pick<TinkerTarget, 'api_key' | 'base_url'> {
  const t = settings.all().tinker;
  return {
    // Without a key in the settings the engine's own environment (TINKER_API_KEY) applies.
    ...(t?.apiKey ? { api_key: t.apiKey } : {}),
    ...(t?.baseUrl ? { base_url: t.baseUrl } : {}),
  };
}
