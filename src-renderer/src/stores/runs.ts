import { create, type StateCreator } from 'zustand';
import {
  PIPELINE_STEPS,
  type ApiErrorPayload,
  type EventContract,
  type ImportUse,
  type PipelineStep,
  type RunSummary,
  type Scale,
} from '../../../src-shared/contract';
import { api } from '../api';
import { safeStorage, toErrorPayload } from './errors';

export interface StepEstimate {
  seconds: number;
  tokens: number;
  costUsd: number;
  explanation: string;
}

export interface StepProgress {
  done: number;
  total: number;
  fraction: number;
  message?: string;
}

export type StepState = 'todo' | 'running' | 'done' | 'failed' | 'cancelled';

const CURRENT_RUN_KEY = 'character-studio.currentRunId';

/** Key of per-step maps: one entry per (run, step). */
export function stepKey(runId: string, step: PipelineStep): string {
  return `${runId}:${step}`;
}

interface RunListSlice {
  runs: RunSummary[];
  currentRunId: string | null;
  loading: boolean;
  error: ApiErrorPayload | null;
  loadRuns: () => Promise<void>;
  selectRun: (runId: string | null) => void;
  /** With data, the run takes its questions (and, with use 'teacher', its answers) from an imported file. */
  createRun: (
    personaId: string,
    scale: Scale,
    data?: { path: string; use: ImportUse },
  ) => Promise<RunSummary | null>;
  resumeRun: (runId: string) => Promise<RunSummary | null>;
  applyRunStatus: (run: RunSummary) => void;
}

interface StepSlice {
  estimates: Record<string, StepEstimate>;
  progress: Record<string, StepProgress>;
  stepErrors: Record<string, ApiErrorPayload>;
  running: Record<string, boolean>;
  estimate: (runId: string, step: PipelineStep) => Promise<void>;
  runStep: (runId: string, step: PipelineStep) => Promise<RunSummary | null>;
  cancelRun: (runId: string) => Promise<void>;
  applyProgress: (event: EventContract['job:progress']) => void;
}

export type RunsState = RunListSlice & StepSlice;

function upsertRun(runs: RunSummary[], run: RunSummary): RunSummary[] {
  const index = runs.findIndex((r) => r.id === run.id);
  if (index === -1) return [run, ...runs];
  const next = runs.slice();
  next[index] = run;
  return next;
}

const createRunListSlice: StateCreator<RunsState, [], [], RunListSlice> = (set, get) => ({
  runs: [],
  currentRunId: safeStorage.get(CURRENT_RUN_KEY),
  loading: false,
  error: null,
  async loadRuns() {
    set({ loading: true, error: null });
    try {
      const runs = await api.invoke('runs:list', undefined);
      const current = get().currentRunId;
      // A remembered run that no longer exists falls back to the newest one.
      const currentRunId = runs.some((r) => r.id === current) ? current : (runs[0]?.id ?? null);
      safeStorage.set(CURRENT_RUN_KEY, currentRunId);
      set({ runs, currentRunId, loading: false });
    } catch (error) {
      set({ loading: false, error: toErrorPayload(error) });
    }
  },
  selectRun(runId) {
    safeStorage.set(CURRENT_RUN_KEY, runId);
    set({ currentRunId: runId });
  },
  async createRun(personaId, scale, data) {
    set({ error: null });
    try {
      const run = await api.invoke('runs:create', { personaId, scale, ...(data ? { data } : {}) });
      safeStorage.set(CURRENT_RUN_KEY, run.id);
      set((s) => ({ runs: upsertRun(s.runs, run), currentRunId: run.id }));
      return run;
    } catch (error) {
      set({ error: toErrorPayload(error) });
      return null;
    }
  },
  async resumeRun(runId) {
    set({ error: null });
    try {
      const run = await api.invoke('runs:resume', { runId });
      safeStorage.set(CURRENT_RUN_KEY, run.id);
      set((s) => ({ runs: upsertRun(s.runs, run), currentRunId: run.id }));
      return run;
    } catch (error) {
      set({ error: toErrorPayload(error) });
      return null;
    }
  },
  applyRunStatus(run) {
    set((s) => ({ runs: upsertRun(s.runs, run) }));
  },
});

const createStepSlice: StateCreator<RunsState, [], [], StepSlice> = (set) => ({
  estimates: {},
  progress: {},
  stepErrors: {},
  running: {},
  async estimate(runId, step) {
    const key = stepKey(runId, step);
    try {
      const estimate = await api.invoke('runs:estimate', { runId, step });
      set((s) => ({ estimates: { ...s.estimates, [key]: estimate } }));
    } catch (error) {
      set((s) => ({ stepErrors: { ...s.stepErrors, [key]: toErrorPayload(error) } }));
    }
  },
  async runStep(runId, step) {
    const key = stepKey(runId, step);
    set((s) => {
      const stepErrors = { ...s.stepErrors };
      delete stepErrors[key];
      return { running: { ...s.running, [key]: true }, stepErrors };
    });
    try {
      const run = await api.invoke('runs:step', { runId, step });
      set((s) => ({ runs: upsertRun(s.runs, run), running: { ...s.running, [key]: false } }));
      return run;
    } catch (error) {
      set((s) => ({
        running: { ...s.running, [key]: false },
        stepErrors: { ...s.stepErrors, [key]: toErrorPayload(error) },
      }));
      return null;
    }
  },
  async cancelRun(runId) {
    try {
      await api.invoke('runs:cancel', { runId });
    } catch (error) {
      set({ error: toErrorPayload(error) });
    }
  },
  applyProgress(event) {
    const key = stepKey(event.runId, event.step);
    const progress: StepProgress = {
      done: event.done,
      total: event.total,
      fraction: event.fraction,
      ...(event.message !== undefined ? { message: event.message } : {}),
    };
    set((s) => ({ progress: { ...s.progress, [key]: progress } }));
  },
});

export const useRunsStore = create<RunsState>()((...args) => ({
  ...createRunListSlice(...args),
  ...createStepSlice(...args),
}));

/** Back to an empty store (tests; a fresh window). */
export function resetRunsStore(): void {
  useRunsStore.setState({
    runs: [],
    currentRunId: null,
    loading: false,
    error: null,
    estimates: {},
    progress: {},
    stepErrors: {},
    running: {},
  });
}

export const selectRuns = (s: RunsState): RunSummary[] => s.runs;
export const selectCurrentRunId = (s: RunsState): string | null => s.currentRunId;
export const selectCurrentRun = (s: RunsState): RunSummary | null =>
  s.runs.find((r) => r.id === s.currentRunId) ?? null;
export const selectRunsError = (s: RunsState): ApiErrorPayload | null => s.error;

/** Where one step of a run stands, from the run's last step and status (plus an in-flight request). */
export function stepState(run: RunSummary | null, step: PipelineStep, inFlight = false): StepState {
  if (inFlight) return 'running';
  if (!run || run.step === null) return 'todo';
  const current = PIPELINE_STEPS.indexOf(run.step);
  const index = PIPELINE_STEPS.indexOf(step);
  if (index < current) return 'done';
  if (index > current) return 'todo';
  // After a step finishes the runner leaves step = that step and status 'pending' (more steps to
  // go) or 'completed' (none left); 'running' means this step is under way now.
  if (run.status === 'completed' || run.status === 'pending') return 'done';
  if (run.status === 'running') return 'running';
  // Interrupted: the process running this step died (killed, crashed); resuming redoes it.
  if (run.status === 'failed' || run.status === 'interrupted') return 'failed';
  // Cancelled by the user: its partial work (a checkpoint) stays and Resume continues from it.
  if (run.status === 'cancelled') return 'cancelled';
  return 'todo';
}

export const selectStepProgress =
  (runId: string, step: PipelineStep) =>
  (s: RunsState): StepProgress | null =>
    s.progress[stepKey(runId, step)] ?? null;
