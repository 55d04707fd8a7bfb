/** Keeps <dataDir>/runs.csv in step with the store: one line per run, rewritten on every status change. */
import type { RunRecord, Store } from '../store';
import { describeModel } from './settings';
import { writeRunsCsvRow, type RunsCsvRow } from './run-dir';
import type { ModelSpec } from '../../src-shared/engine-protocol';

export interface RunsCsvSource {
  dataDir: string;
  store: Store;
}

function modelOf(config: Record<string, unknown>, key: string): string {
  const spec = config[key] as ModelSpec | undefined;
  return spec && typeof spec === 'object' && 'source' in spec ? describeModel(spec) : '';
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
    teacher_model: modelOf(run.config, 'teacherModel'),
    student_model: modelOf(run.config, 'studentModel'),
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
