import type { ReviewItem, ReviewSheet, RunSummary, TrainingConfig } from '../../src-shared/contract';

export function runFixture(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    id: 'run-1',
    personaId: 'beethoven',
    personaVersion: 1,
    scale: 'smoke',
    status: 'pending',
    step: null,
    error: null,
    createdAt: '2026-11-21T20:00:00Z',
    updatedAt: '2026-11-21T20:00:00Z',
    dir: '/tmp/runs/run-1',
    ...overrides,
  };
}

export function reviewItem(id: number, position: number): ReviewItem {
  return {
    id,
    sheetId: 'sheet-1',
    position,
    category: 'music',
    question: `Question ${id}?`,
    answer: `Answer ${id}.`,
    source: null,
    ratings: {},
    note: '',
  };
}

export function sheetFixture(count: number, runId = 'run-1'): ReviewSheet {
  return {
    id: 'sheet-1',
    runId,
    blind: true,
    items: Array.from({ length: count }, (_, i) => reviewItem(i + 101, i)),
  };
}

export const configFixture: TrainingConfig = {
  baseModel: 'default',
  objective: 'kd',
  kdWeight: 0,
  loraR: 8,
  loraAlpha: 16,
  loraDropout: 0.05,
  targetModules: ['q_proj', 'v_proj'],
  learningRate: 1e-4,
  warmupSteps: 2,
  schedule: 'linear',
  batchSize: 2,
  gradAccum: 1,
  maxSteps: 20,
  maxLength: 256,
  evalEvery: 5,
  saveEvery: 10,
  seed: 0,
};
