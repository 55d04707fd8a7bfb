/**
 * The layout of a data folder: the database, the engine log, and the folder of one run,
 * <dataDir>/runs/<runId>/. Every artifact name is defined here once.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface RunPaths {
  dir: string;
  /** Questions of this run (all of them, with their role: train or held-out). */
  questions: string;
  teacherData: string;
  /** The teacher's token distributions, one file per answer (see topkFile). */
  teacherTopk: string;
  train: string;
  val: string;
  /** The held-out evaluation questions, never trained on. */
  heldOut: string;
  trainingConfig: string;
  /** One folder per training job (see jobDir). */
  jobs: string;
  evaluationResults: string;
  /** The in-character classifier fitted on training-question answers. */
  classifier: string;
  resultsReport: string;
  deployment: string;
  log: string;
}

export function databasePath(dataDir: string): string {
  return join(dataDir, 'studio.sqlite');
}

export function engineLogPath(dataDir: string): string {
  return join(dataDir, 'logs', 'engine.log');
}

export function runsCsvPath(dataDir: string): string {
  return join(dataDir, 'runs.csv');
}

export function runsDir(dataDir: string): string {
  return join(dataDir, 'runs');
}

export function runPaths(dataDir: string, runId: string): RunPaths {
  const dir = join(runsDir(dataDir), runId);
  return {
    dir,
    questions: join(dir, 'questions.jsonl'),
    teacherData: join(dir, 'teacher_data.jsonl'),
    teacherTopk: join(dir, 'teacher_topk'),
    train: join(dir, 'train.jsonl'),
    val: join(dir, 'val.jsonl'),
    heldOut: join(dir, 'heldout.jsonl'),
    trainingConfig: join(dir, 'training_config.yaml'),
    jobs: join(dir, 'jobs'),
    evaluationResults: join(dir, 'evaluation_results.json'),
    classifier: join(dir, 'classifier', 'in_character.joblib'),
    resultsReport: join(dir, 'RESULTS_REPORT.md'),
    deployment: join(dir, 'DEPLOYMENT.md'),
    log: join(dir, 'run.log'),
  };
}

/** The folder of one training job: its metrics.jsonl and checkpoints/step-NNNNNN. */
export function jobDir(paths: Pick<RunPaths, 'jobs'>, jobId: string): string {
  return join(paths.jobs, jobId);
}

/** The file of one answer's top-k token distributions: teacher_topk/q000123.safetensors. */
export function topkFile(paths: Pick<RunPaths, 'teacherTopk'>, questionId: number): string {
  return join(paths.teacherTopk, `q${String(questionId).padStart(6, '0')}.safetensors`);
}

export function ensureRunDir(dataDir: string, runId: string): RunPaths {
  const paths = runPaths(dataDir, runId);
  mkdirSync(paths.dir, { recursive: true });
  return paths;
}

/** A run id that sorts by time and says what it is: 20261121-2140-beethoven-mini-ab12. */
export function newRunId(personaId: string, scale: string, now: Date = new Date()): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}-${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  const rand = Math.random().toString(36).slice(2, 6);
  return `${stamp}-${personaId}-${scale}-${rand}`;
}

/** Append one timestamped line to the run's log (never secrets: callers pass redacted text). */
export function appendRunLog(paths: RunPaths, message: string): void {
  mkdirSync(paths.dir, { recursive: true });
  appendFileSync(paths.log, `${new Date().toISOString()} ${message}\n`);
}
