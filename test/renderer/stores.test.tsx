// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MetricPoint, ReviewItem, ReviewSheetInfo } from '../../src-shared/contract';
import { apiError, callsTo, fakeApi, handle, resetFakeApi } from './fakeApi';
import { configFixture, runFixture, sheetFixture } from './fixtures';

vi.mock('../../src-renderer/src/api', () => ({ api: fakeApi }));

const { useRunsStore, resetRunsStore, selectCurrentRun, stepState, selectStepProgress } =
  await import('../../src-renderer/src/stores/runs');
const {
  useTrainingStore,
  resetTrainingStore,
  mergePoints,
  selectTrainLoss,
  selectEvalLoss,
  selectTokensPerS,
  selectLatestLoss,
} = await import('../../src-renderer/src/stores/training');
const { useReviewStore, resetReviewStore, selectRatedCount, selectFocusedDimension } =
  await import('../../src-renderer/src/stores/review');
const { useChatStore, resetChatStore, selectMessagesBy } = await import('../../src-renderer/src/stores/chat');
const { usePersonasStore, resetPersonasStore, selectCanSave, countWords } =
  await import('../../src-renderer/src/stores/personas');
const { useCheckpointsStore, resetCheckpointsStore, selectCurrentCheckpoint, selectActiveCheckpoint } =
  await import('../../src-renderer/src/stores/checkpoints');
const { histogram, binLabels, useEvaluationStore, resetEvaluationStore, selectInCharacterShares } =
  await import('../../src-renderer/src/stores/evaluation');

const point = (
  step: number,
  kind: 'train' | 'eval',
  loss: number,
  extra: Partial<MetricPoint> = {},
): MetricPoint => ({
  step,
  kind,
  loss,
  ...extra,
});

beforeEach(() => {
  resetFakeApi();
  localStorage.clear();
  resetRunsStore();
  resetTrainingStore();
  resetReviewStore();
  resetChatStore();
  resetPersonasStore();
  resetCheckpointsStore();
  resetEvaluationStore();
});
afterEach(() => vi.useRealTimers());

describe('runs store', () => {
  it('creates a run, makes it current and remembers it across reloads', async () => {
    handle('runs:create', ({ personaId, scale }) => runFixture({ id: 'run-9', personaId, scale }));
    const run = await useRunsStore.getState().createRun('beethoven', 'mini');
    expect(run?.id).toBe('run-9');
    expect(selectCurrentRun(useRunsStore.getState())?.scale).toBe('mini');
    expect(localStorage.getItem('character-studio.currentRunId')).toBe('run-9');
  });

  it('falls back to the newest run when the remembered one is gone', async () => {
    useRunsStore.setState({ currentRunId: 'deleted' });
    handle('runs:list', () => [runFixture({ id: 'run-new' }), runFixture({ id: 'run-old' })]);
    await useRunsStore.getState().loadRuns();
    expect(useRunsStore.getState().currentRunId).toBe('run-new');
  });

  it('keeps a failed step error in place, keyed by run and step', async () => {
    handle('runs:step', () => {
      throw apiError('engine_exited', 'The engine exited with code 1');
    });
    const result = await useRunsStore.getState().runStep('run-1', 'generate');
    expect(result).toBeNull();
    const state = useRunsStore.getState();
    expect(state.stepErrors['run-1:generate']).toEqual({
      code: 'engine_exited',
      message: 'The engine exited with code 1',
    });
    expect(state.running['run-1:generate']).toBe(false);
  });

  it('marks a step running while its request is in flight and stores the returned run', async () => {
    let finish: (v: ReturnType<typeof runFixture>) => void = () => undefined;
    handle('runs:step', () => new Promise((resolve) => (finish = resolve)));
    const pending = useRunsStore.getState().runStep('run-1', 'questions');
    expect(useRunsStore.getState().running['run-1:questions']).toBe(true);
    finish(runFixture({ status: 'completed', step: 'questions' }));
    await pending;
    expect(useRunsStore.getState().running['run-1:questions']).toBe(false);
    expect(useRunsStore.getState().runs[0]?.status).toBe('completed');
  });

  it('records job progress events per step', () => {
    useRunsStore
      .getState()
      .applyProgress({ runId: 'run-1', step: 'generate', done: 3, total: 12, fraction: 0.25 });
    expect(selectStepProgress('run-1', 'generate')(useRunsStore.getState())).toEqual({
      done: 3,
      total: 12,
      fraction: 0.25,
    });
    expect(selectStepProgress('run-1', 'audit')(useRunsStore.getState())).toBeNull();
  });

  it('derives step states from the run’s last step and status', () => {
    const run = runFixture({ step: 'audit', status: 'running' });
    expect(stepState(run, 'questions')).toBe('done');
    expect(stepState(run, 'audit')).toBe('running');
    expect(stepState(run, 'train')).toBe('todo');
    expect(stepState({ ...run, status: 'failed' }, 'audit')).toBe('failed');
    expect(stepState({ ...run, status: 'completed' }, 'audit')).toBe('done');
    // The runner marks a run 'pending' between steps: the last step it names is done.
    expect(stepState({ ...run, status: 'pending' }, 'audit')).toBe('done');
    // A cancelled step reads cancelled (its partial work stays; Retry continues), not 'to do'.
    expect(stepState({ ...run, status: 'cancelled' }, 'audit')).toBe('cancelled');
    expect(stepState(null, 'questions')).toBe('todo');
  });
});

describe('training store', () => {
  it('merges points in step order, one per kind and step', () => {
    const a = [point(1, 'train', 3), point(2, 'train', 2.5)];
    const appended = mergePoints(a, [point(3, 'train', 2.2)]);
    expect(appended.map((p) => p.step)).toEqual([1, 2, 3]);
    expect(appended[0]).toBe(a[0]); // in-order appends keep the earlier objects
    const withEval = mergePoints(appended, [point(2, 'eval', 2.7)]);
    expect(withEval.map((p) => `${p.kind}${p.step}`)).toEqual(['train1', 'train2', 'eval2', 'train3']);
    const replaced = mergePoints(withEval, [point(2, 'train', 9)]);
    expect(replaced.filter((p) => p.step === 2 && p.kind === 'train')).toEqual([point(2, 'train', 9)]);
    expect(replaced).toHaveLength(4);
  });

  it('catches up from the last held step and ignores duplicates', async () => {
    handle('training:metrics', ({ sinceStep }) =>
      sinceStep < 0
        ? [point(0, 'eval', 3.1), point(1, 'train', 3.0), point(2, 'train', 2.8)]
        : [point(2, 'train', 2.8), point(3, 'train', 2.6)],
    );
    await useTrainingStore.getState().catchUp('run-1');
    expect(useTrainingStore.getState().points).toHaveLength(3);
    await useTrainingStore.getState().catchUp('run-1');
    expect(callsTo('training:metrics')).toEqual([
      { runId: 'run-1', sinceStep: -1 },
      { runId: 'run-1', sinceStep: 2 },
    ]);
    expect(useTrainingStore.getState().points.map((p) => p.step)).toEqual([0, 1, 2, 3]);
  });

  it('appends live metrics of its run only and updates the job step and throughput', () => {
    useTrainingStore.getState().setRun('run-1');
    useTrainingStore.setState({
      job: {
        id: 'job',
        runId: 'run-1',
        status: 'running',
        config: configFixture,
        step: 0,
        totalSteps: 20,
        tokensPerS: null,
        etaSeconds: null,
      },
    });
    const receive = useTrainingStore.getState().receiveMetric;
    receive({ runId: 'run-1', point: point(1, 'train', 3, { tokensPerS: 410 }) });
    receive({ runId: 'other', point: point(2, 'train', 1) });
    receive({ runId: 'run-1', point: point(5, 'eval', 2.9) });
    const state = useTrainingStore.getState();
    expect(selectTrainLoss(state).map((p) => p.loss)).toEqual([3]);
    expect(selectEvalLoss(state).map((p) => p.step)).toEqual([5]);
    expect(state.job?.step).toBe(5);
    expect(selectTokensPerS(state)).toBe(410);
    expect(selectLatestLoss(state)).toEqual({ train: 3, eval: 2.9, evalNll: null });
    // a kd job's validation point carries its NLL beside the kd loss (issue 18 #15)
    receive({ runId: 'run-1', point: { ...point(6, 'eval', 0.08), nll: 1.48 } });
    expect(selectLatestLoss(useTrainingStore.getState())).toEqual({ train: 3, eval: 0.08, evalNll: 1.48 });
  });

  it('shows the running job’s settings in the form unless the form was edited', async () => {
    const jobConfig = { ...configFixture, maxSteps: 400, learningRate: 5e-5 };
    handle('training:defaults', () => configFixture);
    handle('training:status', ({ runId }) => ({
      id: 'job-1',
      runId,
      status: 'running',
      config: jobConfig,
      step: 10,
      totalSteps: 400,
      tokensPerS: 300,
      etaSeconds: 600,
    }));
    useTrainingStore.getState().setRun('run-1');
    await useTrainingStore.getState().loadDefaults('smoke');
    await useTrainingStore.getState().loadStatus('run-1');
    expect(useTrainingStore.getState().config).toEqual(jobConfig);
    useTrainingStore.getState().resetConfig();
    useTrainingStore.getState().setConfigField('seed', 3);
    await useTrainingStore.getState().loadStatus('run-1');
    expect(useTrainingStore.getState().config).toEqual({ ...configFixture, seed: 3 });
  });

  it('starts training with the edited config and reports a refusal', async () => {
    handle('training:defaults', () => configFixture);
    await useTrainingStore.getState().loadDefaults('smoke');
    useTrainingStore.getState().setConfigField('maxSteps', 50);
    handle('training:start', () => {
      throw apiError('step_order', 'The run has no train split yet');
    });
    await useTrainingStore.getState().start('run-1');
    expect(callsTo('training:start')).toEqual([
      { runId: 'run-1', config: { ...configFixture, maxSteps: 50 } },
    ]);
    expect(useTrainingStore.getState().error?.code).toBe('step_order');
    expect(useTrainingStore.getState().config?.maxSteps).toBe(50);
    expect(useTrainingStore.getState().starting).toBe(false);
  });
});

describe('review store, finding sheets again', () => {
  it('opens the newest sheet of the run from the database when this browser remembers none', async () => {
    const info = (id: string, rated: number): ReviewSheetInfo => ({
      id,
      runId: 'run-1',
      blind: true,
      unblinded: false,
      createdAt: '2026-12-01T00:00:00Z',
      rated,
      total: 3,
    });
    handle('review:list', () => [info('sheet-new', 0), info('sheet-1', 2)]);
    handle('review:get', ({ sheetId }) => ({ ...sheetFixture(3), id: sheetId }));
    globalThis.localStorage?.clear();
    await useReviewStore.getState().openRun('run-1');
    expect(useReviewStore.getState().sheet?.id).toBe('sheet-new');
    expect(useReviewStore.getState().sheets.map((s) => s.id)).toEqual(['sheet-new', 'sheet-1']);
    // Opening the older one is remembered: the next visit continues it.
    await useReviewStore.getState().load('sheet-1');
    resetReviewStore();
    await useReviewStore.getState().openRun('run-1');
    expect(useReviewStore.getState().sheet?.id).toBe('sheet-1');
  });
});

describe('review store', () => {
  beforeEach(() => {
    handle('review:rate', ({ itemId, dimension, value }) => {
      const item = useReviewStore.getState().sheet?.items.find((i) => i.id === itemId) as ReviewItem;
      return { ...item, ratings: { ...item.ratings, [dimension]: value } };
    });
    useReviewStore.setState({ sheet: sheetFixture(3) });
  });

  it('rates the focused dimension, saves it at once and moves to the next dimension', async () => {
    await useReviewStore.getState().rateFocused(4);
    expect(callsTo('review:rate')).toEqual([{ itemId: 101, dimension: 'characterConsistency', value: 4 }]);
    expect(useReviewStore.getState().sheet?.items[0]?.ratings.characterConsistency).toBe(4);
    expect(selectFocusedDimension(useReviewStore.getState())).toBe('historicalAccuracy');
  });

  it('wraps from the last dimension to the next item, and counts an item once all four are rated', async () => {
    for (const value of [5, 4, 4, 3]) await useReviewStore.getState().rateFocused(value);
    const state = useReviewStore.getState();
    expect(state.itemIndex).toBe(1);
    expect(state.dimensionIndex).toBe(0);
    expect(selectRatedCount(state)).toBe(1);
  });

  it('keeps every rating when answers to overlapping saves arrive out of order', async () => {
    const answers: (() => void)[] = [];
    const server: Record<string, number> = {};
    handle('review:rate', ({ itemId, dimension, value }) => {
      // The server stores in request order, but answers are released in reverse below.
      server[dimension] = value;
      const item = { ...(useReviewStore.getState().sheet?.items.find((i) => i.id === itemId) as ReviewItem) };
      const ratings = { ...server };
      return new Promise((resolve) => answers.push(() => resolve({ ...item, ratings })));
    });
    const first = useReviewStore.getState().rateFocused(4);
    const second = useReviewStore.getState().rateFocused(2);
    answers[1]?.();
    await second;
    answers[0]?.(); // the older answer knows only the first rating
    await first;
    expect(useReviewStore.getState().sheet?.items[0]?.ratings).toEqual({
      characterConsistency: 4,
      historicalAccuracy: 2,
    });
  });

  it('rejects ratings outside 1..5 without calling the api', async () => {
    await useReviewStore.getState().rate(101, 'speechPatterns', 7);
    expect(callsTo('review:rate')).toHaveLength(0);
  });

  it('puts the previous rating back when saving fails', async () => {
    handle('review:rate', () => {
      throw apiError('store', 'database is locked');
    });
    await useReviewStore.getState().rate(102, 'speechPatterns', 2);
    const state = useReviewStore.getState();
    expect(state.sheet?.items[1]?.ratings.speechPatterns).toBeUndefined();
    expect(state.error?.message).toBe('database is locked');
  });

  it('does not move past the first or last item', () => {
    const store = useReviewStore.getState();
    store.moveItem(-1);
    expect(useReviewStore.getState().itemIndex).toBe(0);
    store.moveItem(10);
    expect(useReviewStore.getState().itemIndex).toBe(2);
    store.moveDimension(-1);
    expect(useReviewStore.getState()).toMatchObject({ itemIndex: 1, dimensionIndex: 3 });
  });

  it('re-reads the sheet after un-blinding so sources appear', async () => {
    handle('review:summary', ({ sheetId }) => ({
      sheetId,
      rated: 0,
      total: 3,
      meanByDimension: {
        characterConsistency: null,
        historicalAccuracy: null,
        emotionalAuthenticity: null,
        speechPatterns: null,
      },
      passRateBySource: {},
      target: 0.9,
      meetsTarget: false,
    }));
    const unblinded = sheetFixture(3);
    unblinded.blind = false;
    unblinded.items = unblinded.items.map((i) => ({ ...i, source: 'student' as const }));
    handle('review:get', () => unblinded);
    await useReviewStore.getState().summarize(true);
    expect(useReviewStore.getState().sheet?.items[0]?.source).toBe('student');
    expect(useReviewStore.getState().summary?.target).toBe(0.9);
  });
});

describe('chat store', () => {
  it('sends the sampling the user changed, and nothing when the defaults stand', async () => {
    handle('chat:start', ({ checkpointId, withTeacher }) => ({
      id: 's2',
      checkpointId,
      withTeacher,
      personaId: null,
      createdAt: '2026-12-01T00:00:00Z',
      turns: [],
    }));
    handle('chat:send', () => ({ student: { role: 'assistant', content: 'Ja!' }, teacher: null }));
    await useChatStore.getState().send('Hello');
    useChatStore.getState().setSampling({ repetitionPenalty: 1.3 });
    useChatStore.getState().setSampling({ temperature: 0 });
    await useChatStore.getState().send('Again');
    expect(callsTo('chat:send')).toEqual([
      { sessionId: 's2', text: 'Hello' },
      { sessionId: 's2', text: 'Again', sampling: { repetitionPenalty: 1.3, temperature: 0 } },
    ]);
  });

  it('streams tokens into the pending answers, then keeps the finished turns with their numbers', async () => {
    handle('chat:start', ({ checkpointId, withTeacher }) => ({
      id: 's1',
      checkpointId,
      withTeacher,
      turns: [],
    }));
    let finish: (v: {
      student: {
        role: 'assistant';
        content: string;
        latencyMs: number;
        completionTokens: number;
        promptTokens: number;
      };
      teacher: null;
    }) => void = () => undefined;
    handle('chat:send', () => new Promise((resolve) => (finish = resolve)));
    useChatStore.getState().setCheckpoint('ckpt-1');
    await useChatStore.getState().start();
    const sending = useChatStore.getState().send('  Who are you?  ');
    await Promise.resolve();
    const receive = useChatStore.getState().receiveToken;
    receive({ sessionId: 's1', role: 'student', text: 'I am ' });
    receive({ sessionId: 'other', role: 'student', text: 'ignored' });
    receive({ sessionId: 's1', role: 'student', text: 'Ludwig' });
    expect(selectMessagesBy('student')(useChatStore.getState())[0]).toMatchObject({
      content: 'I am Ludwig',
      streaming: true,
    });
    finish({
      student: {
        role: 'assistant',
        content: 'I am Ludwig.',
        latencyMs: 812,
        completionTokens: 5,
        promptTokens: 12,
      },
      teacher: null,
    });
    await sending;
    const messages = useChatStore.getState().messages;
    expect(messages.map((m) => m.speaker)).toEqual(['user', 'student']);
    expect(messages[0]?.content).toBe('Who are you?');
    expect(messages[1]).toMatchObject({ content: 'I am Ludwig.', streaming: false, latencyMs: 812 });
    expect(callsTo('chat:start')).toEqual([{ checkpointId: 'ckpt-1', withTeacher: false }]);
  });
});

describe('chat store without a session', () => {
  it('reports a message it could not send, and drops the teacher side without a checkpoint', async () => {
    handle('chat:start', () => {
      throw apiError('pipeline', 'a side-by-side chat needs a checkpoint');
    });
    useChatStore.getState().setCheckpoint('ckpt-1');
    useChatStore.getState().setWithTeacher(true);
    expect(await useChatStore.getState().send('Hello')).toBe(false);
    expect(useChatStore.getState().messages).toHaveLength(0);
    expect(useChatStore.getState().error?.code).toBe('pipeline');
    useChatStore.getState().setCheckpoint(null);
    expect(useChatStore.getState().withTeacher).toBe(false);
  });
});

describe('personas store', () => {
  it('drops a validation answer for text that changed meanwhile', async () => {
    let answer: (v: { issues: never[]; wordCount: number; tokenCount: number }) => void = () => undefined;
    handle('personas:validate', () => new Promise((resolve) => (answer = resolve)));
    usePersonasStore.getState().setDraft('first text');
    const validating = usePersonasStore.getState().validate();
    usePersonasStore.getState().setDraft('second text, longer');
    answer({ issues: [], wordCount: 2, tokenCount: 3 });
    await validating;
    expect(usePersonasStore.getState().validation).toBeNull();
  });

  it('cannot save while validation reports issues', () => {
    usePersonasStore.setState({
      draft: 'name: x',
      validation: {
        issues: [{ line: 1, field: 'system_prompt', message: 'required' }],
        wordCount: 2,
        tokenCount: null,
      },
    });
    expect(selectCanSave(usePersonasStore.getState())).toBe(false);
    usePersonasStore.setState({ validation: { issues: [], wordCount: 2, tokenCount: null } });
    expect(selectCanSave(usePersonasStore.getState())).toBe(true);
  });

  it('asks before saving over a built-in persona, then saves it as its next version', async () => {
    const saved: unknown[] = [];
    handle('personas:save', (params) => {
      saved.push(params);
      if (!(params as { newVersionOfBuiltIn?: boolean }).newVersionOfBuiltIn) {
        throw Object.assign(apiError('conflict', '"pirate" is a built-in persona'), {
          detail: { id: 'pirate', builtIn: true },
        });
      }
      return {
        id: 'pirate',
        name: 'pirate',
        version: 2,
        format: 'yaml',
        builtIn: true,
        description: '',
        wordCount: 40,
      };
    });
    usePersonasStore.setState({ draft: 'meta: {name: pirate}', format: 'yaml' });
    expect(await usePersonasStore.getState().save()).toBeNull();
    expect(usePersonasStore.getState().builtInConflict).toBe('pirate');
    expect(usePersonasStore.getState().error).toBeNull();
    expect((await usePersonasStore.getState().save(true))?.version).toBe(2);
    expect(saved).toEqual([
      { source: 'meta: {name: pirate}', format: 'yaml' },
      { source: 'meta: {name: pirate}', format: 'yaml', newVersionOfBuiltIn: true },
    ]);
    expect(usePersonasStore.getState().builtInConflict).toBeNull();
  });

  it('counts words', () => {
    expect(countWords('  ')).toBe(0);
    expect(countWords('I am\n Ludwig  van Beethoven')).toBe(5);
  });
});

describe('checkpoints store', () => {
  const base = {
    runId: 'run-1',
    path: '/x',
    createdAt: '2026-11-21T20:00:00Z',
    metrics: {},
    lineage: { personaId: 'beethoven', personaVersion: 1, dataHash: 'abc', config: configFixture },
  };
  /** A main side that keeps a promoted stack the way the registry does (last three stay 'promoted'). */
  function fakeRegistry(ids: string[]): void {
    const reg = { stack: ['c', 'b', 'a'].filter((id) => ids.includes(id)), archived: new Set<string>() };
    const rows = (): ReturnType<typeof useCheckpointsStore.getState>['rows'] =>
      ids.map((id, i) => ({
        ...base,
        id,
        step: (i + 1) * 10,
        state: reg.archived.has(id) ? 'archived' : reg.stack.includes(id) ? 'promoted' : 'candidate',
        current: reg.stack[0] === id,
        active: reg.stack[0] === id,
      }));
    handle('checkpoints:list', () => rows());
    handle('checkpoints:promote', ({ id }) => {
      reg.stack = [id, ...reg.stack.filter((s) => s !== id)];
      return rows().find((r) => r.id === id)!;
    });
    handle('checkpoints:rollback', () => {
      reg.archived.add(reg.stack[0]!);
      reg.stack = reg.stack.slice(1);
      return rows().find((r) => r.id === reg.stack[0]) ?? null;
    });
  }

  it('shows what the main process says after promote and rollback, not a local guess', async () => {
    fakeRegistry(['a', 'b', 'c', 'd']);
    await useCheckpointsStore.getState().load(null);
    await useCheckpointsStore.getState().promote('b');
    const states = (): string[] =>
      useCheckpointsStore.getState().rows.map((r) => `${r.id}:${r.state}${r.current ? '*' : ''}`);
    // The registry keeps the last three promoted: a and c stay 'promoted', only b is current.
    expect(states()).toEqual(['a:promoted', 'b:promoted*', 'c:promoted', 'd:candidate']);
    expect(selectCurrentCheckpoint(useCheckpointsStore.getState())?.id).toBe('b');
    expect(selectActiveCheckpoint(useCheckpointsStore.getState())?.id).toBe('b');
    await useCheckpointsStore.getState().rollback();
    expect(states()).toEqual(['a:promoted', 'b:archived', 'c:promoted*', 'd:candidate']);
    // the same filter is reloaded
    expect(callsTo('checkpoints:list')).toEqual([{}, {}, {}]);
  });
});

describe('evaluation helpers', () => {
  it('bins similarities into equal-width bins, clamping the ends', () => {
    expect(histogram([0, 0.05, 0.15, 0.95, 1, 1.2, -0.1, Number.NaN], 10)).toEqual([
      3, 1, 0, 0, 0, 0, 0, 0, 0, 3,
    ]);
    expect(binLabels(2)).toEqual(['0.0–0.5', '0.5–1.0']);
  });

  it('loads a run’s evaluation and orders in-character shares base, teacher, student', async () => {
    handle('evaluation:get', () => ({
      summary: {
        runId: 'run-1',
        checkpointId: null,
        n: 2,
        inCharacterShare: { base: 0.1, teacher: 0.95, student: 0.7 },
        difflib: { student: 0.4, base: 0.1 },
        cosine: { student: 0.8, base: 0.5 },
        keywordPresence: { base: 0, teacher: 1, student: 0.5 },
        valLoss: null,
        perplexity: null,
        capability: { base: 1, teacher: 1, student: 1 },
        safety: { base: 1, teacher: 1, student: 1 },
        elo: null,
        distillation: null,
        intervals: null,
        gate: { passed: true, score: '+0.60', student: 0.7, base: 0.1, reasons: [] },
      },
      items: [],
      savings: null,
    }));
    await useEvaluationStore.getState().load('run-1');
    expect(selectInCharacterShares(useEvaluationStore.getState())).toEqual([0.1, 0.95, 0.7]);
    expect(useEvaluationStore.getState().loaded).toBe(true);
  });
});
