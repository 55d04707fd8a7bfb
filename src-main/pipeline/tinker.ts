/**
 * The tinker backend in the pipeline. Switching a run to Tinker changes no step: the step table
 * hands the train step (and the character recipe) a Trainer, chosen from the run's backend, that
 * sends every training call (train_sft, train_kd, train_dpo, train_on_policy) either to the local
 * engine or to tinker_train with the run's Tinker models, and the generate step's teacher
 * samples on Tinker. Checkpoint events carry tinker://
 * paths and are registered with their lineage as local ones are; the final adapter comes back
 * as a local folder, so evaluation, savings, chat, review and export run on it locally.
 */
import type { EngineMethods, TinkerTarget } from '../../src-shared/engine-protocol';
import { tinkerConnection } from '../core/backend';
import { ConfigError } from '../core/errors';
import type { SettingsStore } from '../core/settings';
import type { RunConfig } from '../core/run-config';
import type { CallOptions, EngineClient } from '../engine/client';
import { TinkerTeacherProvider } from '../providers/tinker';
import type { TeacherProvider } from '../providers/types';
import type { StepContext } from './runner';
import type { PipelineServices } from './services';

/** The engine's training methods and the objective each is on Tinker. */
const TRAINING_METHODS = {
  train_sft: 'sft',
  train_kd: 'kd',
  train_dpo: 'dpo',
  train_on_policy: 'on_policy',
} as const;

export const TINKER_SCHEME = 'tinker://';

export function isTinkerPath(path: string): boolean {
  return path.startsWith(TINKER_SCHEME);
}

/** The run's Tinker models and connection. */
export function tinkerTarget(settings: SettingsStore, cfg: RunConfig): TinkerTarget {
  if (!cfg.tinker)
    throw new ConfigError('this run trains on Tinker but names no Tinker model', 'tinker.baseModel');
  return {
    base_model: cfg.tinker.baseModel,
    teacher_model: cfg.tinker.teacherModel,
    ...tinkerConnection(settings),
  };
}

/** The generate step's teacher for a run whose teacher samples on Tinker. */
export function tinkerTeacher(studio: PipelineServices, ctx: StepContext): TeacherProvider {
  return new TinkerTeacherProvider({
    client: studio.engine,
    target: tinkerTarget(studio.settings, ctx.run.config),
    chunkSize: ctx.scale.generation.batchSize,
  });
}

/** The engine's training methods: the calls a trainer makes. */
export type TrainingMethod = keyof typeof TRAINING_METHODS;

/**
 * Where a run's training calls go, chosen once per train step from the run's backend: the local
 * engine's own method, or tinker_train with the objective and the run's Tinker models. Every
 * other engine call (generation, merge, metrics) goes to the engine client directly.
 */
export interface Trainer {
  train<M extends TrainingMethod>(
    method: M,
    params: EngineMethods[M]['params'],
    opts?: CallOptions,
  ): Promise<EngineMethods[M]['result']>;
}

/** Training on the local engine: each method as itself. */
export function localTrainer(engine: EngineClient): Trainer {
  return { train: (method, params, opts) => engine.call(method, params, opts) };
}

/** Training on Tinker: every method becomes tinker_train with its objective and the run's models. */
export function tinkerTrainer(engine: EngineClient, target: TinkerTarget): Trainer {
  return {
    train: <M extends TrainingMethod>(
      method: M,
      params: EngineMethods[M]['params'],
      opts?: CallOptions,
    ): Promise<EngineMethods[M]['result']> => {
      const tinkerParams = {
        ...params,
        objective: TRAINING_METHODS[method],
        tinker: target,
      } as EngineMethods['tinker_train']['params'];
      // tinker_train answers with the same TrainResult every local training method does.
      return engine.call('tinker_train', tinkerParams, opts) as Promise<EngineMethods[M]['result']>;
    },
  };
}

/** The trainer for this run's backend (the step table picks it for the train step). */
export function trainerFor(services: PipelineServices, ctx: StepContext): Trainer {
  return ctx.run.config.backend === 'tinker'
    ? tinkerTrainer(services.engine, tinkerTarget(services.settings, ctx.run.config))
    : localTrainer(services.engine);
}
