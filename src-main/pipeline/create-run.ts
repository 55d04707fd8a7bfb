/**
 * Creating a run: the persona, models and scale settings chosen now are parsed and validated
 * here, once, and stored as the run's RunConfig (never an API key).
 */
import type { Scale, TrainingConfig } from '../../src-shared/contract';
import type { ModelSpec } from '../../src-shared/engine-protocol';
import { formatModelSpec } from '../core/model-spec';
import { ensureRunDir, newRunId } from '../core/paths';
import type { Recipe, RunConfig } from '../core/run-config';
import { scaleConfig } from '../core/scales';
import { validateTrainingConfig } from '../core/training-config';
import type { RunRecord } from '../store';
import type { PipelineServices } from './services';

export interface CreateRunOptions {
  personaId: string;
  scale: Scale;
  teacherModel?: ModelSpec;
  studentModel?: ModelSpec;
  training?: Partial<TrainingConfig>;
  recipe?: Recipe;
}

export function createRun(
  services: Pick<PipelineServices, 'dataDir' | 'settings' | 'store' | 'personas'>,
  opts: CreateRunOptions,
): RunRecord {
  const persona = services.personas.get(opts.personaId);
  const settings = services.settings.all();
  const studentModel = opts.studentModel ?? settings.studentModel;
  const teacherModel = opts.teacherModel ?? opts.studentModel ?? settings.teacherModel;
  const sc = scaleConfig(opts.scale);
  // The student model is the run's; the training config records it as its base.
  sc.training = { ...sc.training, ...opts.training, baseModel: formatModelSpec(studentModel) };
  validateTrainingConfig(sc.training);
  const teacherProvider = settings.teacherProvider === 'openai' && settings.openai ? 'openai' : 'local';
  const config: RunConfig = {
    recipe: opts.recipe ?? 'distill',
    personaName: persona.name,
    teacherModel,
    studentModel,
    teacherProvider,
    teacherEndpoint:
      teacherProvider === 'openai' && settings.openai
        ? { baseUrl: settings.openai.baseUrl, model: settings.openai.model }
        : null,
    scaleConfig: sc,
  };
  const id = newRunId(persona.id, opts.scale);
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
