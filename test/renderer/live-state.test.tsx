// @vitest-environment jsdom
/**
 * Pages follow the real job state (issue 18, defect 3): training started or resumed outside the
 * Training page, a cancelled train step, and a fully rated review sheet.
 */
import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  REVIEW_DIMENSIONS,
  type ReviewSheetInfo,
  type RunSummary,
  type TrainingJobSummary,
} from '../../src-shared/contract';
import { emit, fakeApi, handle, resetFakeApi } from './fakeApi';
import { configFixture, runFixture, sheetFixture } from './fixtures';

vi.mock('../../src-renderer/src/api', () => ({ api: fakeApi }));

const { App } = await import('../../src-renderer/src/App');
const { resetRunsStore } = await import('../../src-renderer/src/stores/runs');
const { resetTrainingStore } = await import('../../src-renderer/src/stores/training');
const { resetReviewStore, useReviewStore, selectSheetsWithProgress } =
  await import('../../src-renderer/src/stores/review');
const { resetCheckpointsStore } = await import('../../src-renderer/src/stores/checkpoints');

async function settle(): Promise<void> {
  await act(async () => {
    for (let i = 0; i < 8; i += 1) await Promise.resolve();
  });
}

function go(hash: string): void {
  act(() => {
    window.location.hash = hash;
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  });
}

function job(overrides: Partial<TrainingJobSummary>): TrainingJobSummary {
  return {
    id: 'job-1',
    runId: 'run-1',
    status: 'running',
    config: configFixture,
    step: 0,
    totalSteps: 12,
    tokensPerS: null,
    etaSeconds: null,
    ...overrides,
  };
}

let run: RunSummary;
let serverJob: TrainingJobSummary | null;
let sheets: ReviewSheetInfo[];

beforeAll(() => {
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
});

beforeEach(() => {
  resetFakeApi();
  localStorage.clear();
  resetRunsStore();
  resetTrainingStore();
  resetReviewStore();
  resetCheckpointsStore();
  run = runFixture({ status: 'pending', step: 'split' });
  serverJob = null;
  sheets = [];
  handle('app:info', () => ({ version: '0.1.0', dataDir: '/data', engine: 'python 3.11', electron: false }));
  handle('runs:list', () => [run]);
  handle('runs:estimate', () => ({ seconds: 10, tokens: 0, costUsd: 0, explanation: '' }));
  handle('personas:list', () => []);
  handle('training:defaults', () => configFixture);
  handle('training:status', () => serverJob);
  handle('training:metrics', () => []);
  handle('training:recipe', () => ({ recipe: 'prompt-distillation', character: null, estimate: null }));
  handle('checkpoints:list', () => []);
  handle('evaluation:get', () => null);
  handle('data:audit', () => null);
  handle('review:list', () => sheets);
});
afterEach(() => {
  cleanup();
  window.location.hash = '';
});

describe('the Training page follows the job, whoever started it', () => {
  it('shows step, ETA and status when the wizard started training while the page was open', async () => {
    go('#/training');
    render(<App />);
    await settle();
    expect(screen.getByTestId('training-step').textContent).toBe('—');
    // The wizard (or another tab) starts the train step: the job exists on the main side now.
    run = { ...run, status: 'running', step: 'train' };
    serverJob = job({ step: 3, etaSeconds: 90 });
    act(() => emit('run:status', run));
    act(() => emit('training:metric', { runId: 'run-1', point: { step: 3, kind: 'train', loss: 2.5 } }));
    await settle();
    expect(screen.getByTestId('training-step').textContent).toBe('3 / 12');
    expect(screen.getByTestId('training-eta').textContent).toBe('1 min 30 s');
    expect(screen.getByTestId('training-status').textContent).toBe('running');
  });

  it('reads running again after a cancel and a resume, not "12 / 12 … cancelled"', async () => {
    run = { ...run, status: 'cancelled', step: 'train' };
    serverJob = job({ status: 'cancelled', step: 6 });
    go('#/training');
    render(<App />);
    await settle();
    expect(screen.getByTestId('training-status').textContent).toBe('cancelled');
    run = { ...run, status: 'running' };
    serverJob = job({ status: 'running', step: 7 });
    act(() => emit('run:status', run));
    await settle();
    expect(screen.getByTestId('training-status').textContent).toBe('running');
    expect(screen.getByTestId('training-step').textContent).toBe('7 / 12');
    run = { ...run, status: 'pending', step: 'train' };
    serverJob = job({ status: 'completed', step: 12 });
    act(() => emit('run:status', run));
    await settle();
    expect(screen.getByTestId('training-status').textContent).toBe('completed');
  });
});

describe('the wizard cards follow the run', () => {
  it('marks a cancelled train step cancelled, not "to do"', async () => {
    run = { ...run, status: 'cancelled', step: 'train' };
    render(<App />);
    await settle();
    expect(screen.getByTestId('wizard-state-train').textContent).toBe('cancelled');
    expect(screen.getByTestId('wizard-run-train').textContent).toBe('Retry');
  });

  it('marks Review done once a sheet is fully rated, in progress while partly rated', async () => {
    run = { ...run, status: 'completed', step: 'report' };
    const info: ReviewSheetInfo = {
      id: 'sheet-1',
      runId: 'run-1',
      blind: true,
      unblinded: false,
      createdAt: '2026-11-21T21:00:00Z',
      rated: 20,
      total: 50,
    };
    sheets = [info];
    render(<App />);
    await settle();
    expect(screen.getByTestId('wizard-state-review').textContent).toBe('in progress');
    cleanup();
    resetReviewStore();
    sheets = [{ ...info, rated: 50 }];
    render(<App />);
    await settle();
    expect(screen.getByTestId('wizard-state-review').textContent).toBe('done');
  });
});

describe('the review sheet list', () => {
  it('counts the open sheet’s ratings as they are given, not the count it was listed with', async () => {
    const sheet = sheetFixture(2);
    sheets = [
      { id: sheet.id, runId: 'run-1', blind: true, unblinded: false, createdAt: 'x', rated: 0, total: 2 },
    ];
    handle('review:get', () => sheet);
    handle('review:rate', ({ itemId, dimension, value }) => {
      const item = sheet.items.find((i) => i.id === itemId)!;
      item.ratings = { ...item.ratings, [dimension]: value };
      return item;
    });
    await useReviewStore.getState().openRun('run-1');
    for (const item of sheet.items)
      for (const d of REVIEW_DIMENSIONS) await useReviewStore.getState().rate(item.id, d, 5);
    expect(selectSheetsWithProgress(useReviewStore.getState())[0]?.rated).toBe(2);
  });

  it('renders the Review and Wizard pages with a sheet open, rating it, without an update loop', async () => {
    // A derived list subscribed through useShallow made a new object for the open sheet on
    // every render: React gave up with "Maximum update depth exceeded" and the page went blank.
    const sheet = sheetFixture(2);
    sheets = [
      { id: sheet.id, runId: 'run-1', blind: true, unblinded: false, createdAt: 'x', rated: 0, total: 2 },
    ];
    handle('review:get', () => sheet);
    handle('review:rate', ({ itemId, dimension, value }) => {
      const item = sheet.items.find((i) => i.id === itemId)!;
      item.ratings = { ...item.ratings, [dimension]: value };
      return item;
    });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    go('#/review');
    render(<App />);
    await settle();
    await act(async () => {
      await useReviewStore.getState().openRun('run-1');
    });
    await settle();
    expect(screen.getAllByTestId('review-item')).toHaveLength(2);
    await act(async () => {
      for (const d of REVIEW_DIMENSIONS) await useReviewStore.getState().rate(sheet.items[0]!.id, d, 4);
    });
    go('#/wizard');
    await settle();
    expect(screen.getByTestId('wizard-state-review').textContent).toBe('in progress');
    expect(errors.mock.calls.map((c) => String(c[0]))).toEqual([]);
    errors.mockRestore();
  });
});
