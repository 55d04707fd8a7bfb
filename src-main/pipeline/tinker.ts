/**
 * The tinker backend in the pipeline. Switching a run to Tinker changes no step: the step table
 * hands the train step (and the character recipe) services whose engine sends every training
 * call (train_sft, train_kd, train_dpo, train_on_policy) to tinker_train with the run's Tinker
 * models, and the generate step's teacher samples on Tinker. Checkpoint events carry tinker://
 * paths and are registered with their lineage as local ones are; the final adapter comes back
 * as a local folder, so evaluation, savings, chat, review and export run on it locally.
 */
import type { EngineMethod, EngineMethods, TinkerTarget } from '../../src-shared/engine-protocol';
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

function isTrainingMethod(method: EngineMethod): method is keyof typeof TRAINING_METHODS {
  return Object.prototype.hasOwnProperty.call(TRAINING_METHODS, method);
}

/**
 * The services a step of this run trains with: for the tinker backend, an engine whose training
 * calls go to tinker_train (every other method is the local engine's); otherwise unchanged.
 */
export function trainingServices(services: PipelineServices, ctx: StepContext): PipelineServices {
  if (ctx.run.config.backend !== 'tinker') return services;
  const target = tinkerTarget(services.settings, ctx.run.config);
  const engine = services.engine;
  const call = <M extends EngineMethod>(
    method: M,
    params: EngineMethods[M]['params'],
    opts?: CallOptions,
  ): Promise<EngineMethods[M]['result']> => {
    if (!isTrainingMethod(method)) return engine.call(method, params, opts);
    const objective = TRAINING_METHODS[method];
    const tinkerParams = { ...params, objective, tinker: target } as EngineMethods['tinker_train']['params'];
    return engine.call('tinker_train', tinkerParams, opts) as Promise<EngineMethods[M]['result']>;
  };
  // A view of the one engine client with `call` rerouted; everything else is the client's own.
  const routed = new Proxy(engine, {
    get: (client, prop, receiver): unknown =>
      prop === 'call' ? call : (Reflect.get(client, prop, receiver) as unknown),
  }) as EngineClient;
  return { ...services, engine: routed };
}
