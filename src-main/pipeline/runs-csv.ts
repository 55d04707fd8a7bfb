/** Keeps <dataDir>/runs.csv in step with the store: one line per run, rewritten on every status change. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { csvField, parseCsv } from '../datasets/csv';
import { runsCsvPath } from '../core/paths';
import type { RunRecord, Store } from '../store';
import { describeModel } from '../core/model-spec';

export interface RunsCsvSource {
  dataDir: string;
  store: Store;
}

export function runsCsvRow(src: RunsCsvSource, run: RunRecord): RunsCsvRow {
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
    final_train_loss: lastTrain?.loss ?? null,
    val_loss: s?.valLoss ?? lastEval?.loss ?? null,
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

export function onRunChanged(src: RunsCsvSource, run: RunRecord): void {
  writeRunsCsvRow(src.dataDir, runsCsvRow(src, run));
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
  const path = runsCsvPath(dataDir);
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

/** runs.csv as objects keyed by column name (empty when the file does not exist). */
export function readRunsCsv(dataDir: string): Record<string, string>[] {
  const path = runsCsvPath(dataDir);
  if (!existsSync(path)) return [];
  const [header, ...rows] = parseCsv(readFileSync(path, 'utf8'));
  if (!header) return [];
  return rows.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
}
