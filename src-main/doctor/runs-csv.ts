/**
 * Keeps <dataDir>/runs.csv in step with the store: one line per run, written whole from the
 * database on every status change (never merged with what the file holds: a damaged line there,
 * an unclosed quote say, would swallow the lines after it). Each run's run.json is written too.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { csvField, parseCsv } from '../datasets/csv';
import { makeDir, runsCsvPath } from '../core/paths';
import type { RunRecord, Store } from '../store';
import { writeRunManifest } from '../store/manifest';
import { describeModel } from '../core/model-spec';
import { lossKindOf } from '../../src-shared/losses';

export interface RunsCsvSource {
  dataDir: string;
  store: Store;
}

export function runsCsvRow(src: Pick<RunsCsvSource, 'store'>, run: RunRecord): RunsCsvRow {
  const { store } = src;
  const job = store.jobs.latestForRun(run.id);
  const lastTrain = job ? store.metrics.last(job.id, 'train') : null;
  const lastEval = job ? store.metrics.last(job.id, 'eval') : null;
  const evaluation = store.evaluations.latest(run.id);
  const savings = store.savings.latest(run.id);
  const wall = Object.values(run.timings).reduce((a, b) => a + b, 0);
  const s = evaluation?.summary;
  return {
    run_id: run.id,
    persona: run.personaId,
    persona_version: run.personaVersion,
    scale: run.scale,
    status: run.status,
    teacher_model: describeModel(run.config.teacherModel),
    student_model: describeModel(run.config.studentModel),
    examples: store.examples.countByRun(run.id),
    train_steps: job?.step ?? null,
    // Each loss for what it is (src-shared/losses.ts): the job's own (kd, nll, dpo, reverse_kl)
    // on training and validation, the training loop's validation NLL, and the evaluation's NLL.
    train_loss_kind: job ? lossKindOf(job.kind, 'train') : null,
    final_train_loss: lastTrain?.loss ?? null,
    final_val_loss: lastEval?.loss ?? null,
    final_val_nll:
      job && lossKindOf(job.kind, 'eval') === 'nll' ? (lastEval?.loss ?? null) : (lastEval?.nll ?? null),
    eval_val_nll: s?.valLoss ?? null,
    in_character_student: s?.inCharacterShare.student ?? null,
    in_character_base: s?.inCharacterShare.base ?? null,
    in_character_teacher: s?.inCharacterShare.teacher ?? null,
    gate_passed: s ? s.gate.passed : null,
    token_reduction: savings?.tokenReduction ?? null,
    latency_ratio: savings?.latencyRatio ?? null,
    wall_seconds: Math.round(wall * 10) / 10,
    updated_at: run.updatedAt,
  };
}

/** After a run's status changed: its run.json, and runs.csv from the database. */
export function onRunChanged(src: RunsCsvSource, run: RunRecord): void {
  writeRunManifest(src.dataDir, run);
  writeRunsCsv(src);
}

/** A run whose stored configuration cannot be read still gets its line, with what is known. */
function summaryRow(src: Pick<RunsCsvSource, 'store'>, id: string): RunsCsvRow | null {
  try {
    const run = src.store.runs.get(id);
    return run ? runsCsvRow(src, run) : null;
  } catch {
    const s = src.store.runs.summaries().find((r) => r.id === id);
    if (!s) return null;
    const row = Object.fromEntries(RUNS_CSV_COLUMNS.map((c) => [c, null])) as RunsCsvRow;
    return {
      ...row,
      run_id: s.id,
      persona: s.personaId,
      persona_version: s.personaVersion,
      scale: s.scale,
      status: s.status,
      updated_at: s.updatedAt,
    };
  }
}

/** runs.csv rewritten from the database: every run, oldest first. Returns the file's path. */
export function writeRunsCsv(src: RunsCsvSource): string {
  const rows = src.store.runs
    .summaries()
    .reverse()
    .map((s) => summaryRow(src, s.id))
    .filter((r): r is RunsCsvRow => r !== null);
  return writeRunsCsvRows(src.dataDir, rows);
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
  'train_loss_kind',
  'final_train_loss',
  'final_val_loss',
  'final_val_nll',
  'eval_val_nll',
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
 * Writes runs.csv with exactly these rows (nothing read from the old file), through a temporary
 * file renamed into place: a reader never sees half a file.
 */
export function writeRunsCsvRows(dataDir: string, rows: readonly RunsCsvRow[]): string {
  const path = runsCsvPath(dataDir);
  makeDir(dataDir);
  const header = RUNS_CSV_COLUMNS.join(',');
  const lines = rows.map((row) => RUNS_CSV_COLUMNS.map((c) => csvCell(row[c])).join(','));
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${[header, ...lines].join('\n')}\n`);
  renameSync(tmp, path);
  return path;
}

/** runs.csv as objects keyed by column name (empty when the file does not exist). */
export function readRunsCsv(dataDir: string): Record<string, string>[] {
  const path = runsCsvPath(dataDir);
  if (!existsSync(path)) return [];
  const [header, ...rows] = parseCsv(readFileSync(path, 'utf8'));
  if (!header) return [];
  return rows.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
}
