// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CheckpointListRow, EvaluationItemRow, EvaluationSummary } from '../../src-shared/contract';
import { callsTo, emit, fakeApi, handle, resetFakeApi } from './fakeApi';
import { configFixture, runFixture } from './fixtures';

vi.mock('../../src-renderer/src/api', () => ({ api: fakeApi }));

const { App } = await import('../../src-renderer/src/App');
const { ROUTES, parseHash } = await import('../../src-renderer/src/router');
const { resetRunsStore } = await import('../../src-renderer/src/stores/runs');
const { resetTrainingStore } = await import('../../src-renderer/src/stores/training');
const { resetChatStore } = await import('../../src-renderer/src/stores/chat');
const { resetEvaluationStore } = await import('../../src-renderer/src/stores/evaluation');
const { resetPersonasStore } = await import('../../src-renderer/src/stores/personas');
const { resetCheckpointsStore } = await import('../../src-renderer/src/stores/checkpoints');
const { resetDataStore } = await import('../../src-renderer/src/stores/data');
const { resetReviewStore } = await import('../../src-renderer/src/stores/review');

const checkpoint: CheckpointListRow = {
  id: 'ckpt-20',
  runId: 'run-1',
  step: 20,
  path: '/runs/run-1/checkpoints/step-20',
  createdAt: '2026-11-21T20:30:00Z',
  state: 'promoted',
  current: true,
  active: true,
  metrics: { valLoss: 1.234 },
  lineage: { personaId: 'beethoven', personaVersion: 1, dataHash: 'abcdef0123456789', config: configFixture },
};

const summary: EvaluationSummary = {
  runId: 'run-1',
  checkpointId: 'ckpt-20',
  n: 2,
  inCharacterShare: { base: 0, teacher: 1, student: 0.5 },
  difflib: { student: 0.3, base: 0.1 },
  cosine: { student: 0.7, base: 0.4 },
  keywordPresence: { base: 0, teacher: 1, student: 0.5 },
  valLoss: 1.23,
  perplexity: 3.42,
  capability: { base: 1, teacher: 1, student: 1 },
  safety: { base: 1, teacher: 1, student: 1 },
  elo: null,
  distillation: null,
  intervals: null,
  gate: { passed: true, score: '+0.50', student: 0.5, base: 0, reasons: [] },
};

const evalItem: EvaluationItemRow = {
  questionId: 7,
  category: 'music',
  question: 'What is your Ninth about?',
  answers: { student: 'Joy, my friend!', teacher: 'Joy, brotherhood of all men.', base: 'It is a symphony.' },
  inCharacter: { student: 1, teacher: 1, base: 0 },
  similarityToTeacher: { student: { difflib: 0.4, cosine: 0.8 }, base: { difflib: 0.1, cosine: 0.3 } },
};

async function settle(): Promise<void> {
  await act(async () => {
    for (let i = 0; i < 5; i += 1) await Promise.resolve();
  });
}

function go(hash: string): void {
  act(() => {
    window.location.hash = hash;
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  });
}

beforeAll(() => {
  // jsdom has no canvas: charts skip drawing and the tables beside them carry the numbers.
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
});

beforeEach(() => {
  resetFakeApi();
  localStorage.clear();
  for (const reset of [
    resetRunsStore,
    resetTrainingStore,
    resetChatStore,
    resetEvaluationStore,
    resetPersonasStore,
    resetCheckpointsStore,
    resetDataStore,
    resetReviewStore,
  ])
    reset();
  handle('app:info', () => ({ version: '0.1.0', dataDir: '/data', engine: 'python 3.11', electron: false }));
  handle('runs:list', () => [runFixture({ status: 'completed', step: 'questions' })]);
  handle('personas:list', () => [
    {
      id: 'beethoven',
      name: 'Ludwig van Beethoven',
      version: 1,
      format: 'yaml',
      description: 'Composer',
      wordCount: 540,
      builtIn: true,
    },
  ]);
  handle('runs:estimate', ({ step }) => ({
    seconds: 90,
    tokens: 12000,
    costUsd: 0,
    explanation: `local ${step}`,
  }));
  handle('data:examples', () => ({
    rows: [
      {
        id: 1,
        questionId: 7,
        category: 'music',
        question: 'What is your Ninth about?',
        answer: 'Joy, brotherhood of all men.',
        promptTokens: 700,
        completionTokens: 40,
        flags: [],
        split: 'train',
      },
    ],
    total: 1,
    categories: ['music'],
    flags: ['too_short'],
  }));
  handle('data:audit', () => null);
  handle('evaluation:get', () => ({ summary, items: [evalItem], savings: null }));
  handle('training:defaults', () => configFixture);
  handle('training:status', () => null);
  handle('training:metrics', () => [{ step: 1, kind: 'train', loss: 3.2 }]);
  handle('checkpoints:list', () => [checkpoint]);
  handle('report:get', ({ runId }) => ({
    markdown: `# Results of ${runId}`,
    path: `/runs/${runId}/RESULTS_REPORT.md`,
  }));
  handle('chat:warm', ({ checkpointId, withTeacher }) => ({ checkpointId, withTeacher, loadMs: 1234 }));
  handle('chat:start', ({ checkpointId, withTeacher }) => ({
    id: 'sess-1',
    checkpointId,
    withTeacher,
    turns: [],
  }));
});
afterEach(() => {
  cleanup();
  window.location.hash = '';
});

describe('app shell', () => {
  it('parses hashes into routes, unknown ones to the wizard', () => {
    expect(parseHash('#/review')).toBe('review');
    expect(parseHash('#/nope')).toBe('wizard');
    expect(parseHash('')).toBe('wizard');
  });

  it('renders every page from the navigation without errors', async () => {
    render(<App />);
    await settle();
    expect(screen.getByTestId('app-info').textContent).toBe('v0.1.0 · python 3.11 · browser');
    for (const route of ROUTES) {
      fireEvent.click(screen.getByTestId(`nav-${route.name}`));
      go(`#/${route.name}`);
      await settle();
      expect(screen.getByTestId(`page-${route.name}`)).toBeTruthy();
      expect(screen.getByTestId(`nav-${route.name}`).getAttribute('aria-current')).toBe('page');
    }
  });

  it('labels every form control', async () => {
    render(<App />);
    await settle();
    for (const route of ROUTES) {
      go(`#/${route.name}`);
      await settle();
      for (const control of document.querySelectorAll('input, select, textarea')) {
        const labelled =
          control.getAttribute('aria-label') ||
          (control.id && document.querySelector(`label[for="${control.id}"]`)) ||
          control.closest('label');
        expect(labelled, `${route.name}: ${control.outerHTML.slice(0, 80)}`).toBeTruthy();
      }
    }
  });
});

describe('wizard', () => {
  it('shows each step’s estimate, runs it and shows progress from job events', async () => {
    let finish: (v: ReturnType<typeof runFixture>) => void = () => undefined;
    handle('runs:step', () => new Promise((resolve) => (finish = resolve)));
    render(<App />);
    await settle();
    const step = screen.getByTestId('wizard-step-teacher-data');
    expect(within(step).getByTestId('wizard-estimate-teacher-data').textContent).toContain('12,000 tokens');
    expect(screen.getByTestId('wizard-step-questions').getAttribute('data-state')).toBe('done');
    // The audit needs the teacher data first: its Run button waits.
    expect((screen.getByTestId('wizard-run-audit') as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId('wizard-run-teacher-data') as HTMLButtonElement).disabled).toBe(false);
    fireEvent.click(within(step).getByTestId('wizard-run-teacher-data'));
    await settle();
    expect(callsTo('runs:step')).toEqual([{ runId: 'run-1', step: 'generate' }]);
    expect(step.getAttribute('data-state')).toBe('running');
    act(() => emit('job:progress', { runId: 'run-1', step: 'generate', done: 5, total: 20, fraction: 0.25 }));
    expect(within(step).getByTestId('wizard-progress-teacher-data').textContent).toContain('25%');
    finish(runFixture({ status: 'pending', step: 'generate' }));
    await settle();
    expect(step.getAttribute('data-state')).toBe('done');
    expect((screen.getByTestId('wizard-run-audit') as HTMLButtonElement).disabled).toBe(false);
    expect(screen.getByTestId('wizard-resume').textContent).toBe('Run the remaining steps');
  });
});

describe('training page', () => {
  it('catches up on the curve, explains each field and starts with the form’s config', async () => {
    handle('training:start', ({ runId, config }) => ({
      id: 'job-1',
      runId,
      status: 'running',
      config,
      step: 0,
      totalSteps: config.maxSteps,
      tokensPerS: null,
      etaSeconds: 120,
    }));
    go('#/training');
    render(<App />);
    await settle();
    expect(callsTo('training:metrics')).toEqual([{ runId: 'run-1', sinceStep: -1 }]);
    // Each objective explained, the default marked, and why it is the default.
    expect(screen.getByRole('option', { name: /Knowledge distillation \(kd\) \(default\)/ })).toBeTruthy();
    expect(screen.getByTestId('objective-default-reason').textContent).toContain('Why kd is the default');
    const lr = screen.getByLabelText('Learning rate') as HTMLInputElement;
    expect(Number(lr.value)).toBe(1e-4);
    fireEvent.change(screen.getByLabelText('Max steps'), { target: { value: '40' } });
    fireEvent.click(screen.getByTestId('training-start'));
    await settle();
    expect(callsTo('training:start')).toEqual([
      { runId: 'run-1', config: { ...configFixture, maxSteps: 40 } },
    ]);
    expect(screen.getByTestId('training-eta').textContent).toBe('2 min 0 s');
    act(() =>
      emit('training:metric', {
        runId: 'run-1',
        point: { step: 3, kind: 'train', loss: 2.5, tokensPerS: 321 },
      }),
    );
    expect(screen.getByTestId('training-step').textContent).toBe('3 / 40');
    expect(screen.getByTestId('training-tokens-per-s').textContent).toBe('321.0');
    act(() =>
      emit('training:checkpoint', { runId: 'run-1', checkpoint: { ...checkpoint, state: 'candidate' } }),
    );
    expect(screen.getAllByTestId('training-checkpoint')).toHaveLength(1);
  });
});

describe('losses named for what they are (issue 18 #10, #15)', () => {
  it('the Training page names a kd run’s losses and its validation NLL; the Evaluation page its own NLL', async () => {
    handle('training:metrics', () => [
      { step: 10, kind: 'train', loss: 0.036 },
      { step: 10, kind: 'eval', loss: 0.0862, nll: 1.485 },
    ]);
    go('#/training');
    const { unmount } = render(<App />);
    await settle();
    const stats = screen.getByTestId('training-stats').textContent ?? '';
    expect(stats).toContain('0.0360train kd loss');
    expect(stats).toContain('0.0862validation kd loss');
    expect(screen.getByTestId('training-val-nll').textContent).toBe('1.4850');
    expect(stats).toContain('validation NLL');
    expect(stats).not.toMatch(/validation loss/);
    unmount();
    go('#/evaluation');
    render(<App />);
    await settle();
    const nll = screen.getByTestId('evaluation-val-nll').textContent ?? '';
    expect(nll).toContain('evaluation NLL of the validation answers 1.2300');
    expect(screen.getByTestId('evaluation-gate').textContent).not.toContain('validation loss');
  });
});

describe('chat page', () => {
  it('warms the chosen model up when the page opens and says so', async () => {
    let loaded: (v: { checkpointId: string | null; withTeacher: boolean; loadMs: number }) => void = () =>
      undefined;
    handle('chat:warm', () => new Promise((resolve) => (loaded = resolve)));
    go('#/chat');
    render(<App />);
    await settle();
    // Once, for the checkpoint chat will use, before anything is typed.
    expect(callsTo('chat:warm')).toEqual([{ checkpointId: 'ckpt-20', withTeacher: false }]);
    expect(screen.getByTestId('chat-warmup').textContent).toContain('Warming up the model');
    loaded({ checkpointId: 'ckpt-20', withTeacher: false, loadMs: 2100 });
    await settle();
    expect(screen.getByTestId('chat-warmup').textContent).toBe('Model ready (loaded in 2,100 ms).');
    // Side by side warms the teacher lane too, and says that the two take turns.
    handle('chat:warm', ({ checkpointId, withTeacher }) => ({ checkpointId, withTeacher, loadMs: 10 }));
    fireEvent.click(screen.getByTestId('chat-with-teacher'));
    await settle();
    expect(callsTo('chat:warm')).toContainEqual({ checkpointId: 'ckpt-20', withTeacher: true });
    expect(screen.getByTestId('chat-turns-note').textContent).toContain('timed from Enter');
  });

  it('defaults to the promoted checkpoint and streams the answer as tokens arrive', async () => {
    let finish: (v: {
      student: { role: 'assistant'; content: string; latencyMs: number };
      teacher: null;
    }) => void = () => undefined;
    handle('chat:send', () => new Promise((resolve) => (finish = resolve)));
    go('#/chat');
    render(<App />);
    await settle();
    expect((screen.getByTestId('chat-checkpoint') as HTMLSelectElement).value).toBe('ckpt-20');
    fireEvent.change(screen.getByTestId('chat-input'), { target: { value: 'Who are you?' } });
    fireEvent.click(screen.getByTestId('chat-send'));
    await settle();
    expect(callsTo('chat:start')).toEqual([{ checkpointId: 'ckpt-20', withTeacher: false }]);
    act(() => emit('chat:token', { sessionId: 'sess-1', role: 'student', text: 'I am ' }));
    act(() => emit('chat:token', { sessionId: 'sess-1', role: 'student', text: 'Beethoven' }));
    const messages = screen.getAllByTestId('chat-message');
    expect(messages).toHaveLength(2);
    expect(messages[1]?.textContent).toContain('I am Beethoven');
    finish({ student: { role: 'assistant', content: 'I am Beethoven.', latencyMs: 640 }, teacher: null });
    await settle();
    expect(screen.getByTestId('chat-message-meta').textContent).toContain('640 ms');
  });
});

describe('the current checkpoint', () => {
  // Two promoted checkpoints: the newer-created one was promoted first, then the older one
  // (Beethoven step 60 after hildegard step 12): the registry's current is the older-created one.
  const older: CheckpointListRow = {
    ...checkpoint,
    id: 'beethoven-60',
    step: 60,
    createdAt: '2026-11-20T10:00:00Z',
  };
  const newer: CheckpointListRow = {
    ...checkpoint,
    id: 'hildegard-12',
    step: 12,
    current: false,
    active: false,
    createdAt: '2026-11-22T10:00:00Z',
    lineage: { ...checkpoint.lineage, personaId: 'hildegard' },
  };

  it('chat talks to the checkpoint the registry marks active, not the newest promoted one', async () => {
    handle('checkpoints:list', () => [newer, older]);
    go('#/chat');
    render(<App />);
    await settle();
    expect((screen.getByTestId('chat-checkpoint') as HTMLSelectElement).value).toBe('beethoven-60');
    expect(
      screen.getByRole('option', { name: /beethoven · step 60 · promoted \(current\) · in use/ }),
    ).toBeTruthy();
  });

  it('the Checkpoints page marks the current one and lets a promoted-but-not-current one be promoted', async () => {
    handle('checkpoints:list', () => [newer, older]);
    go('#/checkpoints');
    render(<App />);
    await settle();
    const rows = screen.getAllByTestId('checkpoint-row');
    const byId = (id: string): HTMLElement => rows.find((r) => r.textContent?.includes(id)) as HTMLElement;
    expect(within(byId('beethoven-60')).getByTestId('checkpoint-current')).toBeTruthy();
    expect(within(byId('hildegard-12')).queryByTestId('checkpoint-current')).toBeNull();
    const promote = (id: string): HTMLButtonElement =>
      within(byId(id)).getByTestId('checkpoint-promote') as HTMLButtonElement;
    expect(promote('beethoven-60').disabled).toBe(true);
    expect(promote('hildegard-12').disabled).toBe(false);
    expect(screen.getByTestId('checkpoints-in-use').textContent).toContain('beethoven step 60');
  });
});

describe('persona editor', () => {
  it('stays open when a new persona is cleared, and an empty one never reads "No problems found."', async () => {
    handle('personas:validate', ({ source }) => ({
      issues: [],
      wordCount: source.split(/\s+/).length,
      tokenCount: null,
    }));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      go('#/personas');
      render(<App />);
      await settle();
      fireEvent.click(screen.getByTestId('persona-new-text'));
      fireEvent.change(screen.getByTestId('persona-source'), { target: { value: 'I am Hildegard.' } });
      await act(async () => {
        vi.advanceTimersByTime(2000);
      });
      await settle();
      expect(screen.getByTestId('persona-editor').textContent).toContain('No problems found.');
      // Ctrl+A, Backspace: the editor and what is typed next stay.
      fireEvent.change(screen.getByTestId('persona-source'), { target: { value: '' } });
      await settle();
      expect(screen.getByTestId('persona-editor')).toBeTruthy();
      expect(screen.getByTestId('persona-editor').textContent).not.toContain('No problems found.');
      expect(screen.getByTestId('persona-empty')).toBeTruthy();
      fireEvent.change(screen.getByTestId('persona-source'), { target: { value: 'H' } });
      expect((screen.getByTestId('persona-source') as HTMLTextAreaElement).value).toBe('H');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('evaluation and data pages', () => {
  it('shows the gate, the in-character shares and similarity histograms', async () => {
    go('#/evaluation');
    render(<App />);
    await settle();
    expect(screen.getByTestId('evaluation-gate').textContent).toContain('passed');
    expect(within(screen.getByTestId('in-character-chart')).getByText('50.0%')).toBeTruthy();
    const cosineRows = within(screen.getByTestId('similarity-cosine')).getAllByRole('row');
    // header + student + base; the student's single answer (cosine 0.8) sits in the 0.8–0.9 bin.
    expect(cosineRows).toHaveLength(3);
    expect(cosineRows[1]?.textContent).toBe('student0000000010');
    expect(screen.getByTestId('evaluation-report').textContent).toContain('# Results of run-1');
    expect(screen.getByTestId('evaluation-distillation').textContent).toContain('Not measured');
  });

  it('shows captured and the per-token KL with their intervals, and the rates with theirs', async () => {
    const ci = (low: number, high: number): { low: number; high: number } => ({ low, high });
    const withCi: EvaluationSummary = {
      ...summary,
      distillation: {
        answers: 96,
        tokens: 5000,
        klStudent: 0.18,
        klBase: 0.42,
        captured: 0.571,
        nll: { teacher: 1.33, student: 1.35, base: 1.61 },
        intervals: { klStudent: ci(0.16, 0.2), klBase: ci(0.38, 0.46), captured: ci(0.52, 0.62) },
      },
      intervals: {
        inCharacterShare: { base: ci(0, 0), teacher: ci(1, 1), student: ci(0.3, 0.7) },
        keywordPresence: { base: ci(0, 0), teacher: ci(1, 1), student: ci(0.25, 0.75) },
        capability: { base: ci(1, 1), student: ci(1, 1) },
        safety: { base: ci(1, 1), student: ci(1, 1) },
        inCharacterVsTeacher: { value: 0.5, interval: ci(0.3, 0.7) },
      },
    };
    handle('evaluation:get', () => ({ summary: withCi, items: [evalItem], savings: null }));
    go('#/evaluation');
    render(<App />);
    await settle();
    expect(screen.getByTestId('captured').textContent).toBe('0.571 [0.520–0.620]');
    const panel = screen.getByTestId('evaluation-distillation').textContent ?? '';
    expect(panel).toContain('0.180 [0.160–0.200]');
    expect(panel).toContain('96 held-out questions');
    const scores = screen.getByTestId('evaluation-scores').textContent ?? '';
    expect(scores).toContain('50.0% [30.0–70.0%]');
    expect(scores).toContain('of the teacher’s');
  });

  it('puts the student answer beside the teacher answer once evaluation items exist', async () => {
    go('#/data');
    render(<App />);
    await settle();
    const row = screen.getAllByTestId('data-row')[0] as HTMLElement;
    expect(row.textContent).toContain('Joy, brotherhood of all men.');
    expect(row.textContent).toContain('Joy, my friend!');
    fireEvent.change(screen.getByLabelText('Audit flag'), { target: { value: 'too_short' } });
    await settle();
    expect(callsTo('data:examples').at(-1)).toEqual({
      runId: 'run-1',
      flag: 'too_short',
      offset: 0,
      limit: 25,
    });
  });
});
