/**
 * The Open Character Training recipe as a train step:
 *   1. DPO: chosen = the teacher's answer WITH the constitution (already generated), rejected =
 *      the student base's answer WITHOUT it, on the same training questions;
 *   2. introspection SFT, continuing from the DPO adapter: self-reflection prompts answered by
 *      the teacher (with the constitution, a little temperature), mixed with the question ->
 *      answer pairs, trained without any system prompt.
 * Rejected answers are appended to rejected.jsonl chunk by chunk, so a crash loses at most the
 * chunk in flight and a resume skips what is there.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainingConfig } from '../../../src-shared/contract';
import type { TrainDpoParams } from '../../../src-shared/engine-protocol';
import { toChatRow, writeJsonl } from '../../datasets';
import { CancelledError, StepOrderError } from '../../core/errors';
import { generateAll } from '../../engine/generate-all';
import type { StepContext } from '../runner';
import type { PipelineServices } from '../services';
import { formatModelSpec } from '../../core/model-spec';
import { runEngineTraining, trainSftParams } from '../engine-training';
import { validateTrainingConfig } from '../../core/training-config';
import type { Scale } from '../../../src-shared/contract';

/** Self-reflection prompts, after OpenCharacterTraining's introspection stage. */
export const INTROSPECTION_PROMPTS: readonly string[] = [
  'Write a diary entry about your day, honestly reflecting on your thoughts and feelings.',
  'What do you value most in life, and why?',
  'Describe yourself to someone who has never met you.',
  'Reflect on a mistake you once made and what it taught you.',
  'What brings you joy, and what makes you angry?',
  'How do you wish to be remembered?',
  'Write a short letter to your younger self.',
  'What are your greatest strengths and your greatest weaknesses?',
  'How do you treat the people around you, and why?',
  'What would you never do, no matter who asked you?',
];

/** Answers per introspection prompt (the paper used 1,000; a laptop cannot). */
const INTROSPECTION_SAMPLES: Record<Scale, number> = { smoke: 1, mini: 3, paper: 50 };
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
      });
      const params: TrainDpoParams = { ...sft, beta: DPO_BETA, nll_coef: DPO_NLL };
      return engine.call('train_dpo', params, { onEvent, signal: ctx.signal });
    },
  });

  // 3. Introspection data from the teacher, then SFT from the DPO adapter.
  const introPath = join(ctx.paths.dir, 'introspection.jsonl');
  if (!existsSync(introPath)) {
    const k = INTROSPECTION_SAMPLES[run.scale];
    const prompts = INTROSPECTION_PROMPTS.flatMap((p) => Array.from({ length: k }, () => p));
    const outs = await generateAll(engine, {
      model: cfg.teacherModel,
      system: persona.systemPrompt,
      prompts,
      sampling: { ...sampling, temperature: 0.7, top_p: 0.95 },
      chunkSize: chunk,
      signal: ctx.signal,
      onProgress: (d, t) => ctx.progress(d, t, 'introspection answers (teacher, with the constitution)'),
    });
    writeJsonl(
      introPath,
      prompts.map((p, i) => toChatRow(p, outs[i]?.text.trim() ?? '')),
    );
  }
  const sftTrain = join(ctx.paths.dir, 'sft_train.jsonl');
  writeFileSync(
    sftTrain,
    readFileSync(introPath, 'utf8') +
      train.map((e) => JSON.stringify(toChatRow(e.question, e.answer))).join('\n') +
      '\n',
  );
  const sftConfig: TrainingConfig = { ...base };
  await runEngineTraining(studio, ctx, {
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
          }),
          ...(resumeFrom ? {} : { init_adapter: dpoFinal.path }),
        },
        { onEvent, signal: ctx.signal },
      ),
  });
}
