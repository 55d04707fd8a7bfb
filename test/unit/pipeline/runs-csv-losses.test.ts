/**
 * runs.csv names each loss for what it is (issue 18 #15): a kd run's final_train_loss (0.036, a kd
 * loss) used to sit beside val_loss (1.802, the evaluation's NLL with an end token after every
 * answer) while the training log's validation NLL was 1.485. Now the job's loss kind, its train
 * and validation losses, the training loop's validation NLL and the evaluation's NLL each have a
 * column.
 */
import { describe, expect, it } from 'vitest';
import type { EvaluationSummary, TrainingConfig } from '../../../src-shared/contract';
import { RUNS_CSV_COLUMNS, runsCsvRow } from '../../../src-main/doctor/runs-csv';
import { openStore } from '../../../src-main/store';

const CONFIG = { objective: 'kd' } as TrainingConfig;
const SUMMARY = {
  valLoss: 1.802,
  inCharacterShare: {},
  gate: { passed: true },
} as unknown as EvaluationSummary;

describe('runs.csv losses', () => {
  it('names the kd loss, the validation NLL and the evaluation NLL in their own columns', () => {
    const store = openStore(':memory:');
    const run = store.runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'smoke', dir: '/r' });
    const job = store.jobs.create({ runId: run.id, kind: 'kd', config: CONFIG, totalSteps: 80 });
    store.metrics.append(job.id, [
      { step: 80, kind: 'train', loss: 0.036 },
      { step: 80, kind: 'eval', loss: 0.0862, extra: { nll: 1.485 } },
    ]);
    store.evaluations.save({ runId: run.id, checkpointId: null, summary: SUMMARY, items: [] });
    const row = runsCsvRow({ store }, run);
    expect(row).toMatchObject({
      train_loss_kind: 'kd',
      final_train_loss: 0.036,
      final_val_loss: 0.0862,
      final_val_nll: 1.485,
      eval_val_nll: 1.802,
    });
    expect(RUNS_CSV_COLUMNS).not.toContain('val_loss');
  });

  it('an sft run’s validation loss is its validation NLL', () => {
    const store = openStore(':memory:');
    const run = store.runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'smoke', dir: '/r' });
    const job = store.jobs.create({ runId: run.id, kind: 'sft', config: CONFIG, totalSteps: 10 });
    store.metrics.append(job.id, [
      { step: 10, kind: 'train', loss: 1.2 },
      { step: 10, kind: 'eval', loss: 1.4 },
    ]);
    expect(runsCsvRow({ store }, run)).toMatchObject({
      train_loss_kind: 'nll',
      final_val_loss: 1.4,
      final_val_nll: 1.4,
      eval_val_nll: null,
    });
  });
});
