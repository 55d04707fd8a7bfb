/**
 * The Open Character Training recipe as a train step:
 *   1. DPO: chosen = the teacher's answer WITH the constitution (already generated), rejected =
 *      the student base's answer WITHOUT it, on the same training questions; with dpoKdWeight > 0
 *      plus that weight x the kd loss on the chosen answer's captured top-k (the anchor: DPO
 *      alone moved the student away from the teacher per token, README);
 *   2. introspection data (introspection.ts): self-reflections and self-interactions, filtered,
 *      mixed with the question -> answer pairs; written by the DPO checkpoint (anchor none, the
 *      paper's) or by the teacher with its top-k captured (anchor kd);
 *   3. the introspection stage without any system prompt: SFT on the text (anchor none) or kd
 *      on the teacher's distributions (anchor kd):
 *      - sequential (default): continuing from the DPO adapter, one final checkpoint;
 *      - paper: from the base; with merge, the DPO and SFT adapters are then merged into one
 *        (character-merge.ts), the run's final checkpoint, whose lineage names both parents;
 *        with mergeGrid the weights are chosen first on the validation questions
 *        (character-merge-grid.ts).
 * Rejected answers are appended to rejected.jsonl chunk by chunk, so a crash loses at most the
 * chunk in flight and a resume skips what is there.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainingConfig } from '../../../src-shared/contract';
import type { TrainDpoParams } from '../../../src-shared/engine-protocol';
import { readJsonl, toChatRow, writeJsonl, type ChatRow } from '../../datasets';
import { characterDefaults } from '../../core/character-options';
import { introspectionData, introspectionSummary } from './introspection';
import { mergeStage } from './character-merge';
import { chooseMergeWeights } from './character-merge-grid';
import { topkFile } from '../../core/paths';
import { CancelledError, ConfigError, StepOrderError } from '../../core/errors';
import { generateAll } from '../../engine/generate-all';
import type { StepContext } from '../runner';
import type { PipelineServices } from '../services';
import type { Trainer } from '../tinker';
import { formatModelSpec } from '../../core/model-spec';
import { runEngineTraining, trainSftParams } from '../engine-training';
import { validateTrainingConfig } from '../../core/training-config';

/**
 * The paper's introspection sampling (temperature 0.7, top-p 0.95) plus chat's anti-loop
 * repetition penalty: without it 62 of 124 introspection answers of a mini run were loops.
 */
const INTROSPECTION_SAMPLING = { temperature: 0.7, top_p: 0.95, repetition_penalty: 1.15 };
/** A self-interaction turn: shorter than an answer to a question, so it ends before it loops. */
const TURN_TOKENS_SHARE = 0.75;
/** The SFT stage's longest row: ten turns of a self-interaction need more than a question + answer. */
const MAX_INTROSPECTION_LENGTH = 2048;
/** Chat-template tokens per turn plus the opener (about). */
const TURN_OVERHEAD_TOKENS = 12;

/** DPO settings from the paper: beta 0.1, NLL coefficient 0.1. */
const DPO_BETA = 0.1;
const DPO_NLL = 0.1;

interface RejectedRow {
  question_id: number;
  answer: string;
}

function readRejected(path: string): Map<number, string> {
  const out = new Map<number, string>();
  if (!existsSync(path)) return out;
  // Lenient: a line torn by a crash is left out, and that question is generated again.
  for (const r of readJsonl<RejectedRow>(path).rows) out.set(r.question_id, r.answer);
  return out;
}

export async function characterTrainStep(
  studio: PipelineServices,
  ctx: StepContext,
  trainer: Trainer,
): Promise<void> {
  const { store, engine } = studio;
  const run = ctx.run;
  const cfg = run.config;
  const persona = studio.personas.get(run.personaId, run.personaVersion);
  const train = store.examples.listByRun(run.id, { split: 'train' });
  const val = store.examples.listByRun(run.id, { split: 'val' });
  if (train.length === 0) throw new StepOrderError('train', 'a train split (run the split step)');
  const base: TrainingConfig = { ...cfg.scaleConfig.training, baseModel: formatModelSpec(cfg.studentModel) };
  const gen = ctx.scale.generation;
  const sampling = {
    temperature: gen.temperature,
    top_p: gen.topP,
    max_new_tokens: gen.maxNewTokens,
    seed: gen.seed,
  };

  // 1. Rejected answers: the student base without the constitution.
  const rejectedPath = join(ctx.paths.dir, 'rejected.jsonl');
  const rejected = readRejected(rejectedPath);
  const todo = [...train, ...val].filter((e) => !rejected.has(e.questionId));
  const chunk = gen.batchSize;
  for (let i = 0; i < todo.length; i += chunk) {
    if (ctx.signal.aborted) throw new CancelledError('cancelled while generating rejected answers');
    const part = todo.slice(i, i + chunk);
    const outs = await generateAll(engine, {
      model: cfg.studentModel,
      prompts: part.map((e) => e.question),
      sampling,
      chunkSize: chunk,
      signal: ctx.signal,
    });
    const lines = part.map((e, k) => {
      const answer = outs[k]?.text.trim() ?? '';
      rejected.set(e.questionId, answer);
      return JSON.stringify({ question_id: e.questionId, answer } satisfies RejectedRow);
    });
    appendFileSync(rejectedPath, `${lines.join('\n')}\n`);
    ctx.progress(Math.min(i + chunk, todo.length), todo.length, 'rejected answers (base, no prompt)');
  }
  const options = cfg.character ?? characterDefaults(run.scale);
  const kdWeight = options.dpoKdWeight ?? 0;
  const anchored = options.anchor === 'kd';
  const topkOf = (e: (typeof train)[number]): string | null => {
    const f = topkFile(ctx.paths, e.questionId);
    return existsSync(f) ? f : null;
  };
  if (kdWeight > 0 || anchored) {
    const missing = [...train, ...val].filter((e) => !topkOf(e)).length;
    if (missing > 0)
      throw new ConfigError(
        `the character recipe's kd anchor needs the teacher's token distributions of every training answer, but ${missing} have none (an endpoint teacher, or topK 0): train without the anchor (--dpo-kd-weight 0 --anchor none)`,
        'character.anchor',
        { missing },
      );
  }
  const pair = (e: (typeof train)[number]): Record<string, unknown> => ({
    prompt: [{ role: 'user', content: e.question }],
    chosen: e.answer,
    rejected: rejected.get(e.questionId) ?? '',
    ...(kdWeight > 0 ? { teacher_topk: topkOf(e) } : {}),
  });
  const dpoTrain = join(ctx.paths.dir, 'dpo_train.jsonl');
  const dpoVal = join(ctx.paths.dir, 'dpo_val.jsonl');
  writeJsonl(dpoTrain, train.map(pair));
  writeJsonl(dpoVal, val.map(pair));

  // 2. DPO.
  const dpoConfig: TrainingConfig = { ...base, maxSteps: Math.max(2, Math.ceil(base.maxSteps / 2)) };
  dpoConfig.warmupSteps = Math.min(dpoConfig.warmupSteps, dpoConfig.maxSteps - 1);
  validateTrainingConfig(dpoConfig, train.length);
  const dpoFinal = await runEngineTraining(studio, ctx, {
    kind: 'dpo',
    config: dpoConfig,
    start: ({ outputDir, resumeFrom, onEvent }) => {
      const sft = trainSftParams(dpoConfig, {
        model: cfg.studentModel,
        trainPath: dpoTrain,
        valPath: val.length > 0 ? dpoVal : null,
        outputDir,
        resumeFrom,
        tensorboard: studio.settings.get('tensorboard') === true,
      });
      const params: TrainDpoParams = {
        ...sft,
        beta: DPO_BETA,
        nll_coef: DPO_NLL,
        ...(kdWeight > 0 ? { kd_weight: kdWeight } : {}),
      };
      return trainer.train('train_dpo', params, { onEvent, signal: ctx.signal });
    },
  });

  // 3. Introspection data (with the constitution), filtered: the DPO checkpoint's text, or the
  //    teacher's answers with its top-k (anchor kd; a folder of its own, so a run retrained with
  //    the other anchor never reads the wrong writer's files).
  const intro = await introspectionData({
    engine,
    model: anchored ? cfg.teacherModel : cfg.studentModel,
    ...(anchored ? { captureTopK: gen.topK } : { adapter: dpoFinal.path }),
    system: persona.systemPrompt,
    characterName: persona.name,
    options,
    sampling: { ...sampling, ...INTROSPECTION_SAMPLING },
    turnSampling: {
      ...sampling,
      ...INTROSPECTION_SAMPLING,
      max_new_tokens: Math.max(16, Math.round(gen.maxNewTokens * TURN_TOKENS_SHARE)),
    },
    batchSize: chunk,
    audit: {
      keywords: persona.keywords,
      minWords: ctx.scale.audit.minWords,
      maxWords: ctx.scale.audit.maxWords,
    },
    dir: anchored ? join(ctx.paths.dir, 'introspection-teacher') : ctx.paths.dir,
    signal: ctx.signal,
    progress: (d, t, m) => ctx.progress(d, t, m),
  });
  // The filters' counts as a progress line before the stage trains (and in the run log).
  const summary = introspectionSummary(intro);
  ctx.progress(intro.kept, intro.generated, summary);
  ctx.log(summary);
  const sftTrain = join(ctx.paths.dir, anchored ? 'kd_train.jsonl' : 'sft_train.jsonl');
  const qa = (e: (typeof train)[number]): ChatRow => ({
    ...toChatRow(e.question, e.answer),
    ...(anchored ? { teacher_topk: topkOf(e) as string } : {}),
  });
  writeJsonl(sftTrain, [...intro.rows, ...train.map(qa)]);
  const stageVal = join(ctx.paths.dir, 'stage_val.jsonl');
  writeJsonl(stageVal, val.map(qa));

  // 4. Introspection SFT: from the DPO adapter (sequential) or from the base (paper mode).
  const paper = options.mode === 'paper';
  const conversationLength =
    intro.interactions.length > 0
      ? options.interactionTurns * (gen.maxNewTokens + TURN_OVERHEAD_TOKENS) + 2 * TURN_OVERHEAD_TOKENS
      : 0;
  const sftConfig: TrainingConfig = {
    ...base,
    ...(anchored ? { objective: 'kd' as const } : {}),
    maxLength: Math.max(base.maxLength, Math.min(MAX_INTROSPECTION_LENGTH, conversationLength)),
  };
  const sftFinal = await runEngineTraining(studio, ctx, {
    kind: 'sft',
    config: sftConfig,
    start: ({ outputDir, resumeFrom, onEvent }) =>
      trainer.train(
        anchored ? 'train_kd' : 'train_sft',
        {
          ...trainSftParams(sftConfig, {
            model: cfg.studentModel,
            trainPath: sftTrain,
            valPath: val.length > 0 ? stageVal : null,
            outputDir,
            resumeFrom,
            tensorboard: studio.settings.get('tensorboard') === true,
          }),
          ...(resumeFrom || paper ? {} : { init_adapter: dpoFinal.path }),
        },
        { onEvent, signal: ctx.signal },
      ),
  });

  // 5. Paper mode with merge: one adapter equal to the weighted sum of both updates, at the
  //    weights the grid chose on the validation questions (or the given ones).
  if (paper && options.merge) {
    const weights = options.mergeGrid
      ? await chooseMergeWeights(studio, ctx, dpoFinal, sftFinal, {
          rejected,
          fallback: options.mergeWeights,
        })
      : options.mergeWeights;
    await mergeStage(studio, ctx, dpoFinal, sftFinal, weights);
  } else if (paper)
    ctx.log('paper mode without merge: the final checkpoint is the SFT adapter alone (DPO kept apart)');
}
