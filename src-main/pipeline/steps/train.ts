/**
 * The train step of a distillation run: check the data against the hyperparameters, write
 * training_config.yaml, and train the LoRA student with the run's objective, on
 * train.jsonl/val.jsonl, into the job's own folder (jobs/<job>/: metrics.jsonl and
 * checkpoints/step-NNNNNN):
 *   sft       — train_sft on the teacher's answers;
 *   kd        — train_kd on the same rows, against the teacher's top-k distributions captured
 *               while it generated (each row's teacher_topk file);
 *   on-policy — train_on_policy: the student samples answers to the training questions and the
 *               teacher (with the constitution) scores them; kdWeight adds the kd loss.
 * A failed or cancelled training resumes from its last complete checkpoint.
 */
import type { TrainingConfig } from '../../../src-shared/contract';
import type { TrainResult } from '../../../src-shared/engine-protocol';
import { ConfigError, StepOrderError } from '../../core/errors';
import { formatModelSpec } from '../../core/model-spec';
import { validateTrainingData } from '../../core/training-config';
import { countJsonlRows, readJsonl, writeTrainingConfig } from '../../datasets';
import { runEngineTraining, trainSftParams, type TrainingStart } from '../engine-training';
import type { StepContext } from '../runner';
import type { PipelineServices } from '../services';
import type { Trainer } from '../tinker';

/** Rows of a train/val file that name the teacher's token distributions of their answer. */
export function rowsWithTopk(path: string): { rows: number; withTopk: number } {
  let rows = 0;
  let withTopk = 0;
  for (const row of readJsonl<{ teacher_topk?: unknown }>(path, { strict: true }).rows) {
    rows += 1;
    if (typeof row.teacher_topk === 'string') withTopk += 1;
  }
  return { rows, withTopk };
}

/** kd (and on-policy with a kd weight) need every training answer's distributions. */
function requireTopk(config: TrainingConfig, trainPath: string): void {
  const needs = config.objective === 'kd' || (config.objective === 'on-policy' && config.kdWeight > 0);
  if (!needs) return;
  const { rows, withTopk } = rowsWithTopk(trainPath);
  if (withTopk < rows) {
    throw new ConfigError(
      `objective ${config.objective}${config.kdWeight > 0 ? ` with kd weight ${config.kdWeight}` : ''} needs the teacher's token distributions for every training answer, but ${rows - withTopk} of ${rows} rows in ${trainPath} have none: the teacher was an endpoint, or generation ran with topK 0. Train with sft or on-policy (kd weight 0), or generate again with a local teacher.`,
      'objective',
      { rows, withTopk },
    );
  }
}

export async function trainStep(studio: PipelineServices, ctx: StepContext, trainer: Trainer): Promise<void> {
  const cfg = ctx.run.config;
  const config = cfg.scaleConfig.training;
  const trainRows = countJsonlRows(ctx.paths.train);
  if (trainRows === 0) throw new StepOrderError('train', `${ctx.paths.train} (run the split step)`);
  validateTrainingData(config, trainRows);
  requireTopk(config, ctx.paths.train);
  // A Tinker teacher scores on Tinker (tinker_train); an endpoint cannot score tokens.
  if (config.objective === 'on-policy' && cfg.teacherProvider === 'openai') {
    throw new ConfigError(
      'on-policy distillation needs the teacher as a local model (it scores every token the student samples); this run’s teacher is an endpoint: train with sft',
      'objective',
    );
  }
  const valRows = countJsonlRows(ctx.paths.val);
  writeTrainingConfig(ctx.paths.trainingConfig, config, {
    trainFile: ctx.paths.train,
    valFile: ctx.paths.val,
    outputDir: ctx.paths.jobs,
  });
  // kd is validated on val rows with distributions; rows without them would fail, so no val then.
  const valUsable =
    valRows > 0 && (config.objective !== 'kd' || rowsWithTopk(ctx.paths.val).withTopk === valRows);
  if (valRows > 0 && !valUsable)
    ctx.log('validation rows lack teacher distributions: kd runs without validation');

  const start = ({ outputDir, resumeFrom, onEvent }: TrainingStart): Promise<TrainResult> => {
    const base = trainSftParams(config, {
      model: cfg.studentModel,
      trainPath: ctx.paths.train,
      valPath: valUsable ? ctx.paths.val : null,
      outputDir,
      resumeFrom,
      tensorboard: studio.settings.get('tensorboard') === true,
    });
    const opts = { onEvent, signal: ctx.signal };
    switch (config.objective) {
      case 'sft':
        return trainer.train('train_sft', base, opts);
      case 'kd':
        return trainer.train('train_kd', base, opts);
      case 'on-policy': {
        const persona = studio.personas.get(ctx.run.personaId, ctx.run.personaVersion);
        const gen = cfg.scaleConfig.generation;
        return trainer.train(
          'train_on_policy',
          {
            ...base,
            teacher: {
              system: persona.systemPrompt,
              // Another teacher model is loaded as such; the student's own base is the student's
              // weights with the adapter switched off (no second copy in memory).
              ...(formatModelSpec(cfg.teacherModel) !== formatModelSpec(cfg.studentModel)
                ? { model: cfg.teacherModel }
                : {}),
            },
            // Reverse KL needs samples from the student's own distribution: temperature 1.
            sampling: { temperature: 1, top_p: 1, max_new_tokens: gen.maxNewTokens },
            kd_weight: config.kdWeight,
          },
          opts,
        );
      }
    }
  };
  await runEngineTraining(studio, ctx, { kind: config.objective, config, start });
}
