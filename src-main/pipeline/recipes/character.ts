/**
 * The Open Character Training recipe as a train step:
 *   1. DPO: chosen = the teacher's answer WITH the constitution (already generated), rejected =
 *      the student base's answer WITHOUT it, on the same training questions;
 *   2. introspection data from the DPO checkpoint (introspection.ts): self-reflections and
 *      self-interactions, filtered, mixed with the question -> answer pairs;
 *   3. introspection SFT without any system prompt:
 *      - sequential (default): continuing from the DPO adapter, one final checkpoint;
 *      - paper: from the base; with merge, the DPO and SFT adapters are then merged into one
 *        (character-merge.ts), the run's final checkpoint, whose lineage names both parents.
 * Rejected answers are appended to rejected.jsonl chunk by chunk, so a crash loses at most the
 * chunk in flight and a resume skips what is there.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainingConfig } from '../../../src-shared/contract';
import type { TrainDpoParams } from '../../../src-shared/engine-protocol';
import { toChatRow, writeJsonl } from '../../datasets';
import { characterDefaults } from '../../core/character-options';
import { introspectionData } from './introspection';
import { mergeStage } from './character-merge';
import { CancelledError, StepOrderError } from '../../core/errors';
import { generateAll } from '../../engine/generate-all';
import type { StepContext } from '../runner';
import type { PipelineServices } from '../services';
import { formatModelSpec } from '../../core/model-spec';
import { runEngineTraining, trainSftParams } from '../engine-training';
import { validateTrainingConfig } from '../../core/training-config';

/** The paper's introspection sampling: temperature 0.7, top-p 0.95. */
const INTROSPECTION_SAMPLING = { temperature: 0.7, top_p: 0.95 };
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
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as RejectedRow;
      out.set(r.question_id, r.answer);
    } catch {
      /* a line torn by a crash: that question is generated again */
    }
  }
  return out;
}

export async function characterTrainStep(studio: PipelineServices, ctx: StepContext): Promise<void> {
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
  const pair = (e: (typeof train)[number]): Record<string, unknown> => ({
    prompt: [{ role: 'user', content: e.question }],
    chosen: e.answer,
    rejected: rejected.get(e.questionId) ?? '',
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
      const params: TrainDpoParams = { ...sft, beta: DPO_BETA, nll_coef: DPO_NLL };
      return engine.call('train_dpo', params, { onEvent, signal: ctx.signal });
    },
  });

  // 3. Introspection data from the DPO checkpoint (with the constitution), filtered.
  const options = cfg.character ?? characterDefaults(run.scale);
  const intro = await introspectionData({
    engine,
    model: cfg.studentModel,
    adapter: dpoFinal.path,
    system: persona.systemPrompt,
    characterName: persona.name,
    options,
    sampling: { ...sampling, ...INTROSPECTION_SAMPLING },
    batchSize: chunk,
    audit: {
      keywords: persona.keywords,
      minWords: ctx.scale.audit.minWords,
      maxWords: ctx.scale.audit.maxWords,
    },
    dir: ctx.paths.dir,
    signal: ctx.signal,
    progress: (d, t, m) => ctx.progress(d, t, m),
  });
  const filtered = Object.entries(intro.filtered)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  ctx.log(
    `introspection: ${intro.reflections.length} reflections, ${intro.interactions.length} self-interactions of ${options.interactionTurns} turns; ${intro.rows.length} rows kept${filtered ? `; filtered: ${filtered}` : ''}`,
  );
  const sftTrain = join(ctx.paths.dir, 'sft_train.jsonl');
  writeJsonl(sftTrain, [...intro.rows, ...train.map((e) => toChatRow(e.question, e.answer))]);

  // 4. Introspection SFT: from the DPO adapter (sequential) or from the base (paper mode).
  const paper = options.mode === 'paper';
  const conversationLength =
    intro.interactions.length > 0
      ? options.interactionTurns * (gen.maxNewTokens + TURN_OVERHEAD_TOKENS) + 2 * TURN_OVERHEAD_TOKENS
      : 0;
  const sftConfig: TrainingConfig = {
    ...base,
    maxLength: Math.max(base.maxLength, Math.min(MAX_INTROSPECTION_LENGTH, conversationLength)),
  };
  const sftFinal = await runEngineTraining(studio, ctx, {
    kind: 'sft',
    config: sftConfig,
    start: ({ outputDir, resumeFrom, onEvent }) =>
      engine.call(
        'train_sft',
        {
          ...trainSftParams(sftConfig, {
            model: cfg.studentModel,
            trainPath: sftTrain,
            valPath: val.length > 0 ? ctx.paths.val : null,
            outputDir,
            resumeFrom,
            tensorboard: studio.settings.get('tensorboard') === true,
          }),
          ...(resumeFrom || paper ? {} : { init_adapter: dpoFinal.path }),
        },
        { onEvent, signal: ctx.signal },
      ),
  });

  // 5. Paper mode with merge: one adapter equal to the weighted sum of both updates.
  if (paper && options.merge) await mergeStage(studio, ctx, dpoFinal, sftFinal, options.mergeWeights);
  else if (paper)
    ctx.log('paper mode without merge: the final checkpoint is the SFT adapter alone (DPO kept apart)');
}
