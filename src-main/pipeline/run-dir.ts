/**
 * The folder of one run, <dataDir>/runs/<runId>/, and the cross-run <dataDir>/runs.csv.
 * Every artifact name is defined here once.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { csvField, parseCsv } from '../datasets/csv';

export interface RunPaths {
  dir: string;
  /** Questions of this run (all of them, with their role: train or held-out). */
  questions: string;
  teacherData: string;
  train: string;
  val: string;
  /** The held-out evaluation questions, never trained on. */
  heldOut: string;
  trainingConfig: string;
  metrics: string;
  checkpoints: string;
  evaluationResults: string;
  /** The in-character classifier fitted on training-question answers. */
  classifier: string;
  resultsReport: string;
  deployment: string;
  log: string;
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
    train: join(dir, 'train.jsonl'),
    val: join(dir, 'val.jsonl'),
    heldOut: join(dir, 'heldout.jsonl'),
    trainingConfig: join(dir, 'training_config.yaml'),
    metrics: join(dir, 'metrics.jsonl'),
    checkpoints: join(dir, 'checkpoints'),
    evaluationResults: join(dir, 'evaluation_results.json'),
    classifier: join(dir, 'classifier', 'in_character.joblib'),
    resultsReport: join(dir, 'RESULTS_REPORT.md'),
    deployment: join(dir, 'DEPLOYMENT.md'),
    log: join(dir, 'run.log'),
  };
}

export function ensureRunDir(dataDir: string, runId: string): RunPaths {
  const paths = runPaths(dataDir, runId);
  mkdirSync(paths.checkpoints, { recursive: true });
  return paths;
}

/** A run id that sorts by time and says what it is: 20261121-2140-beethoven-mini-ab12. */
export function newRunId(personaId: string, scale: string, now: Date = new Date()): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}-${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  const rand = Math.random().toString(36).slice(2, 6);
  return `${stamp}-${personaId}-${scale}-${rand}`;
}

export const RUNS_CSV_COLUMNS = [
  'run_id',
  'persona',
  'persona_version',
  'scale',
  'status',
  'teacher_model',
  'student_model',
  'examples',
  'train_steps',
  'final_train_loss',
  'val_loss',
  'in_character_student',
  'in_character_base',
  'in_character_teacher',
  'gate_passed',
  'token_reduction',
  'latency_ratio',
  'wall_seconds',
  'updated_at',
] as const;
export type RunsCsvRow = Record<(typeof RUNS_CSV_COLUMNS)[number], string | number | boolean | null>;

/** A runs.csv cell; a non-finite number (NaN loss, say) is left empty. */
function csvCell(value: string | number | boolean | null): string {
  return csvField(typeof value === 'number' && !Number.isFinite(value) ? null : value);
}

/**
 * Upsert one run's line in runs.csv (one line per run; the latest state wins). Small file,
 * rewritten whole each time.
 */
export function writeRunsCsvRow(dataDir: string, row: RunsCsvRow): string {
  const path = join(dataDir, 'runs.csv');
  mkdirSync(dataDir, { recursive: true });
  const header = RUNS_CSV_COLUMNS.join(',');
  const line = RUNS_CSV_COLUMNS.map((c) => csvCell(row[c])).join(',');
  if (!existsSync(path)) {
    writeFileSync(path, `${header}\n${line}\n`);
    return path;
  }
  const id = String(row.run_id);
  const [, ...rows] = parseCsv(readFileSync(path, 'utf8'));
  const body = rows.filter((cells) => cells[0] !== id).map((cells) => cells.map(csvCell).join(','));
  body.push(line);
  writeFileSync(path, `${header}\n${body.join('\n')}\n`);
  return path;
}

/** Append one timestamped line to the run's log (never secrets: callers pass redacted text). */
export function appendRunLog(paths: RunPaths, message: string): void {
  mkdirSync(paths.dir, { recursive: true });
  appendFileSync(paths.log, `${new Date().toISOString()} ${message}\n`);
}

/** runs.csv as objects keyed by column name (empty when the file does not exist). */
export function readRunsCsv(dataDir: string): Record<string, string>[] {
  const path = join(dataDir, 'runs.csv');
  if (!existsSync(path)) return [];
  const [header, ...rows] = parseCsv(readFileSync(path, 'utf8'));
  if (!header) return [];
  return rows.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
}
