/**
 * The dataset files a run writes: teacher_data.jsonl (everything, with audit flags), train.jsonl
 * and val.jsonl in OpenAI chat format without a system message (the student never sees the
 * prompt) and training_config.yaml. (runs.csv, one line per run with its metrics, is the
 * pipeline's: src-main/doctor/runs-csv.ts.)
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { stringify } from 'yaml';
import type { TeacherExampleRow, TrainingConfig } from '../../src-shared/contract';
import { topkFile } from '../core/paths';
import type { Store } from '../store';
import { writeJsonl } from './jsonl';

export interface ChatRow {
  messages: { role: 'user' | 'assistant'; content: string }[];
  /**
   * The teacher's token distributions for this answer (kd), relative to the file's folder, when
   * they were captured: teacher_topk/q000123.safetensors.
   */
  teacher_topk?: string;
}

export function toChatRow(question: string, answer: string): ChatRow {
  return {
    messages: [
      { role: 'user', content: question },
      { role: 'assistant', content: answer },
    ],
  };
}

/** One line per teacher example, snake_case like the rest of the on-disk files. */
export function teacherDataRow(r: TeacherExampleRow): Record<string, unknown> {
  return {
    id: r.id,
    question_id: r.questionId,
    category: r.category,
    question: r.question,
    answer: r.answer,
    prompt_tokens: r.promptTokens,
    completion_tokens: r.completionTokens,
    flags: r.flags,
    split: r.split,
  };
}

export function writeTeacherData(path: string, rows: readonly TeacherExampleRow[]): number {
  return writeJsonl(path, rows.map(teacherDataRow));
}

export interface SplitFiles {
  trainPath: string;
  valPath: string;
  train: number;
  val: number;
}

/** A row of train/val.jsonl: the chat, and the answer's captured distributions when they exist. */
function splitRow(r: TeacherExampleRow, dir: string): ChatRow {
  const topk = topkFile({ teacherTopk: join(dir, 'teacher_topk') }, r.questionId);
  return {
    ...toChatRow(r.question, r.answer),
    ...(existsSync(topk) ? { teacher_topk: relative(dir, topk).split(sep).join('/') } : {}),
  };
}

/** Writes train.jsonl and val.jsonl for a run from its stored split. */
export function writeSplitFiles(store: Store, runId: string, dir: string): SplitFiles {
  const train = store.examples.listByRun(runId, { split: 'train' });
  const val = store.examples.listByRun(runId, { split: 'val' });
  const trainPath = join(dir, 'train.jsonl');
  const valPath = join(dir, 'val.jsonl');
  writeJsonl(
    trainPath,
    train.map((r) => splitRow(r, dir)),
  );
  writeJsonl(
    valPath,
    val.map((r) => splitRow(r, dir)),
  );
  return { trainPath, valPath, train: train.length, val: val.length };
}

/** Writes teacher_data.jsonl, train.jsonl and val.jsonl for a run. */
export function exportRunData(
  store: Store,
  runId: string,
  dir: string,
): SplitFiles & { teacherPath: string; teacher: number } {
  const all = store.examples.listByRun(runId);
  const teacherPath = join(dir, 'teacher_data.jsonl');
  writeTeacherData(teacherPath, all);
  return { ...writeSplitFiles(store, runId, dir), teacherPath, teacher: all.length };
}

/** training_config.yaml: model, lora, training, data and checkpointing sections. */
export function trainingConfigYaml(
  config: TrainingConfig,
  data: { trainFile: string; valFile: string; outputDir?: string },
): string {
  const doc = {
    model: {
      base_model: config.baseModel,
      lora_rank: config.loraR,
      lora_alpha: config.loraAlpha,
      lora_dropout: config.loraDropout,
      target_modules: config.targetModules,
    },
    training: {
      objective: config.objective,
      kd_weight: config.kdWeight,
      learning_rate: config.learningRate,
      schedule: config.schedule,
      warmup_steps: config.warmupSteps,
      batch_size: config.batchSize,
      gradient_accumulation_steps: config.gradAccum,
      max_steps: config.maxSteps,
      seed: config.seed,
      loss:
        config.objective === 'sft'
          ? 'cross-entropy on assistant tokens only'
          : config.objective === 'kd'
            ? "forward KL to the teacher's top-k distribution at each assistant token"
            : 'reverse KL to the teacher on answers the student samples',
    },
    data: {
      train_file: data.trainFile,
      val_file: data.valFile,
      max_seq_length: config.maxLength,
      system_prompt: false,
    },
    checkpointing: {
      save_every: config.saveEvery,
      eval_every: config.evalEvery,
      output_dir: data.outputDir ?? 'checkpoints/',
    },
  };
  return `# Written by Character Studio; edit in the app or pass to \`character train --config\`.\n${stringify(doc)}`;
}

export function writeTrainingConfig(
  path: string,
  config: TrainingConfig,
  data: { trainFile: string; valFile: string; outputDir?: string },
): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, trainingConfigYaml(config, data));
}
