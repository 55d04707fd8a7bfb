import { create, type StateCreator } from 'zustand';
import type {
  ApiErrorPayload,
  CheckpointRow,
  EventContract,
  RunSummary,
  MetricPoint,
  Scale,
  TrainingConfig,
  TrainingJobSummary,
} from '../../../src-shared/contract';
import type { CharacterRecipeOptions } from '../../../src-shared/character';
import { api } from '../api';
import { toErrorPayload } from './errors';

/**
 * Merges metric points into a list sorted by step, one point per (kind, step); a later copy of a
 * point replaces the earlier one. Appending in order (the live case) keeps the earlier objects and
 * costs one copy; out-of-order points (a catch-up racing live events) fall back to a sort.
 */
export function mergePoints(
  existing: readonly MetricPoint[],
  incoming: readonly MetricPoint[],
): MetricPoint[] {
  if (incoming.length === 0) return existing as MetricPoint[];
  const last = existing[existing.length - 1];
  let previous = last === undefined ? -Infinity : orderKey(last);
  let inOrder = true;
  for (const p of incoming) {
    const key = orderKey(p);
    if (key <= previous) {
      inOrder = false;
      break;
    }
    previous = key;
  }
  if (inOrder) return existing.concat(incoming);
  const byKey = new Map<number, MetricPoint>();
  for (const p of existing) byKey.set(orderKey(p), p);
  for (const p of incoming) byKey.set(orderKey(p), p);
  return [...byKey.values()].sort((a, b) => orderKey(a) - orderKey(b));
}

/** Sort key: by step, the training point before the evaluation point of the same step. */
function orderKey(p: MetricPoint): number {
  return p.step * 2 + (p.kind === 'eval' ? 1 : 0);
}

interface MetricsSlice {
  runId: string | null;
  points: MetricPoint[];
  catchingUp: boolean;
  /** Switches the store to a run; clears what belonged to another run. */
  setRun: (runId: string | null) => void;
  /** training:metrics since the last step already held, so a reload shows the whole curve. */
  catchUp: (runId: string) => Promise<void>;
  receiveMetric: (event: EventContract['training:metric']) => void;
}

interface JobSlice {
  job: TrainingJobSummary | null;
  /** The run whose training:status request is in flight, and whether it was asked again meanwhile. */
  statusRequest: string | null;
  statusStale: boolean;
  checkpoints: CheckpointRow[];
  defaults: TrainingConfig | null;
  config: TrainingConfig | null;
  starting: boolean;
  error: ApiErrorPayload | null;
  loadDefaults: (scale: Scale) => Promise<void>;
  setConfigField: <K extends keyof TrainingConfig>(key: K, value: TrainingConfig[K]) => void;
  resetConfig: () => void;
  loadStatus: (runId: string) => Promise<void>;
  loadCheckpoints: (runId: string) => Promise<void>;
  /** character: the character recipe's options as edited on the page (stored with the config). */
  start: (runId: string, character?: CharacterRecipeOptions | null) => Promise<void>;
  cancel: (runId: string) => Promise<void>;
  receiveCheckpoint: (event: EventContract['training:checkpoint']) => void;
  /**
   * A run changed status (any page started, cancelled or resumed it): re-read the job from the
   * main process, so step, ETA and status follow the real job, not the page that started it.
   */
  applyRunStatus: (run: RunSummary) => void;
}

export type TrainingState = MetricsSlice & JobSlice;

const createMetricsSlice: StateCreator<TrainingState, [], [], MetricsSlice> = (set, get) => ({
  runId: null,
  points: [],
  catchingUp: false,
  setRun(runId) {
    if (get().runId === runId) return;
    set((s) => ({ runId, points: [], job: null, checkpoints: [], error: null, config: s.defaults }));
  },
  async catchUp(runId) {
    get().setRun(runId);
    const points = get().points;
    // -1 asks for everything, a step-0 evaluation included.
    const sinceStep = points.length ? (points[points.length - 1] as MetricPoint).step : -1;
    set({ catchingUp: true });
    try {
      const fresh = await api.invoke('training:metrics', { runId, sinceStep });
      if (get().runId !== runId) return;
      set((s) => ({ points: mergePoints(s.points, fresh), catchingUp: false }));
    } catch (error) {
      set({ catchingUp: false, error: toErrorPayload(error) });
    }
  },
  receiveMetric(event) {
    if (event.runId !== get().runId) return;
    // A metric while the page holds no running job: training was started elsewhere (the wizard,
    // a resume, another tab). Ask main for the job instead of drawing a curve beside "—".
    const known = get().job;
    if (!known || known.status !== 'running') void get().loadStatus(event.runId);
    set((s) => {
      const job =
        s.job && event.point.step > s.job.step
          ? {
              ...s.job,
              step: event.point.step,
              tokensPerS: event.point.tokensPerS ?? s.job.tokensPerS,
            }
          : s.job;
      return { points: mergePoints(s.points, [event.point]), job };
    });
  },
});

type JobSliceData = Pick<
  JobSlice,
  'job' | 'statusRequest' | 'statusStale' | 'checkpoints' | 'defaults' | 'config' | 'starting' | 'error'
>;

/** The job slice before anything is loaded (fresh arrays each call; shared with resetTrainingStore). */
function initialJob(): JobSliceData {
  return {
    job: null,
    statusRequest: null,
    statusStale: false,
    checkpoints: [],
    defaults: null,
    config: null,
    starting: false,
    error: null,
  };
}

const createJobSlice: StateCreator<TrainingState, [], [], JobSlice> = (set, get) => ({
  ...initialJob(),
  async loadDefaults(scale) {
    try {
      const defaults = await api.invoke('training:defaults', { scale });
      set((s) => ({
        defaults,
        config: s.config === null || s.config === s.defaults ? (s.job?.config ?? defaults) : s.config,
      }));
    } catch (error) {
      set({ error: toErrorPayload(error) });
    }
  },
  setConfigField(key, value) {
    const config = get().config;
    if (!config) return;
    set({ config: { ...config, [key]: value } });
  },
  resetConfig() {
    set((s) => ({ config: s.defaults }));
  },
  async loadStatus(runId) {
    // One request at a time: a burst of metrics must not become a burst of status calls. A call
    // that arrives meanwhile marks the answer stale, and one more request follows it.
    if (get().statusRequest === runId) {
      set({ statusStale: true });
      return;
    }
    set({ statusRequest: runId, statusStale: false });
    try {
      const job = await api.invoke('training:status', { runId });
      if (get().runId !== runId) return;
      // Show the settings the job ran with, unless the form has been edited since the defaults.
      set((s) => ({
        job,
        config: job && (s.config === null || s.config === s.defaults) ? job.config : s.config,
      }));
    } catch (error) {
      set({ error: toErrorPayload(error) });
    } finally {
      const stale = get().statusStale;
      set({ statusRequest: null, statusStale: false });
      if (stale && get().runId === runId) void get().loadStatus(runId);
    }
  },
  async loadCheckpoints(runId) {
    try {
      const checkpoints = await api.invoke('checkpoints:list', { runId });
      if (get().runId !== runId) return;
      set({ checkpoints });
    } catch (error) {
      set({ error: toErrorPayload(error) });
    }
  },
  async start(runId, character) {
    const config = get().config;
    if (!config) return;
    get().setRun(runId);
    set({ starting: true, error: null, points: [], config });
    try {
      const job = await api.invoke('training:start', { runId, config, ...(character ? { character } : {}) });
      set({ job, starting: false });
    } catch (error) {
      set({ starting: false, error: toErrorPayload(error) });
    }
  },
  async cancel(runId) {
    try {
      await api.invoke('training:cancel', { runId });
      // The run:status event that follows re-reads the job; do not guess its state here.
    } catch (error) {
      set({ error: toErrorPayload(error) });
    }
  },
  receiveCheckpoint(event) {
    if (event.runId !== get().runId) return;
    set((s) => ({
      checkpoints: [...s.checkpoints.filter((c) => c.id !== event.checkpoint.id), event.checkpoint],
    }));
  },
  applyRunStatus(run) {
    if (run.id === get().runId) void get().loadStatus(run.id);
  },
});

export const useTrainingStore = create<TrainingState>()((...args) => ({
  ...createMetricsSlice(...args),
  ...createJobSlice(...args),
}));

export function resetTrainingStore(): void {
  useTrainingStore.setState({ runId: null, points: [], catchingUp: false, ...initialJob() });
}

/** Derived arrays: use with useShallow. */
export const selectTrainLoss = (s: TrainingState): MetricPoint[] =>
  s.points.filter((p) => p.kind === 'train');
export const selectEvalLoss = (s: TrainingState): MetricPoint[] => s.points.filter((p) => p.kind === 'eval');
export const selectTrainingJob = (s: TrainingState): TrainingJobSummary | null => s.job;
export const selectTrainingConfig = (s: TrainingState): TrainingConfig | null => s.config;
export const selectSavedCheckpoints = (s: TrainingState): CheckpointRow[] => s.checkpoints;
export const selectTrainingError = (s: TrainingState): ApiErrorPayload | null => s.error;
export const selectIsTraining = (s: TrainingState): boolean =>
  s.starting || s.job?.status === 'running' || s.job?.status === 'pending';

/** Latest throughput: the job's figure, else the last point that reported one. */
export const selectTokensPerS = (s: TrainingState): number | null => {
  if (s.job?.tokensPerS != null) return s.job.tokensPerS;
  for (let i = s.points.length - 1; i >= 0; i -= 1) {
    const p = s.points[i] as MetricPoint;
    if (p.tokensPerS !== undefined) return p.tokensPerS;
  }
  return null;
};

/** The newest train and validation loss (the objective's own), and the validation NLL beside a kd loss. */
export const selectLatestLoss = (
  s: TrainingState,
): { train: number | null; eval: number | null; evalNll: number | null } => {
  let train: number | null = null;
  let evalPoint: MetricPoint | null = null;
  for (let i = s.points.length - 1; i >= 0 && (train === null || evalPoint === null); i -= 1) {
    const p = s.points[i] as MetricPoint;
    if (p.kind === 'train' && train === null) train = p.loss;
    if (p.kind === 'eval' && evalPoint === null) evalPoint = p;
  }
  return { train, eval: evalPoint?.loss ?? null, evalNll: evalPoint?.nll ?? null };
};
