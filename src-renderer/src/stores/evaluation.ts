import { create, type StateCreator } from 'zustand';
import type {
  ApiErrorPayload,
  EvaluationItemRow,
  EvaluationSummary,
  ModelRole,
  SavingsSummary,
} from '../../../src-shared/contract';
import { api } from '../api';
import { toErrorPayload } from './errors';

export const MODEL_ROLES: readonly ModelRole[] = ['base', 'teacher', 'student'];

interface ResultSlice {
  runId: string | null;
  summary: EvaluationSummary | null;
  items: EvaluationItemRow[];
  savings: SavingsSummary | null;
  /** True once evaluation:get answered for runId (null result = not evaluated yet). */
  loaded: boolean;
  loading: boolean;
  error: ApiErrorPayload | null;
  load: (runId: string) => Promise<void>;
}

interface ReportSlice {
  /** RESULTS_REPORT.md of the run, once the report step has written it. */
  report: { markdown: string; path: string } | null;
  loadReport: (runId: string) => Promise<void>;
}

export type EvaluationState = ResultSlice & ReportSlice;

type ResultSliceData = Omit<ResultSlice, 'load'>;

/** Results before a run is loaded (fresh arrays each call; shared with resetEvaluationStore). */
function initialResult(): ResultSliceData {
  return {
    runId: null,
    summary: null,
    items: [],
    savings: null,
    loaded: false,
    loading: false,
    error: null,
  };
}

const createResultSlice: StateCreator<EvaluationState, [], [], ResultSlice> = (set, get) => ({
  ...initialResult(),
  async load(runId) {
    if (get().runId !== runId)
      set({ runId, summary: null, items: [], savings: null, loaded: false, report: null });
    set({ loading: true, error: null });
    try {
      const result = await api.invoke('evaluation:get', { runId });
      if (get().runId !== runId) return;
      set({
        summary: result?.summary ?? null,
        items: result?.items ?? [],
        savings: result?.savings ?? null,
        loaded: true,
        loading: false,
      });
    } catch (error) {
      set({ loading: false, error: toErrorPayload(error) });
    }
  },
});

const createReportSlice: StateCreator<EvaluationState, [], [], ReportSlice> = (set, get) => ({
  report: null,
  async loadReport(runId) {
    try {
      const report = await api.invoke('report:get', { runId });
      if (get().runId === runId) set({ report });
    } catch (error) {
      set({ error: toErrorPayload(error) });
    }
  },
});

export const useEvaluationStore = create<EvaluationState>()((...args) => ({
  ...createResultSlice(...args),
  ...createReportSlice(...args),
}));

export function resetEvaluationStore(): void {
  useEvaluationStore.setState({ report: null, ...initialResult() });
}

/**
 * Counts of values in `bins` equal-width bins over [min, max]; values outside are clamped into the
 * end bins (a cosine can be slightly negative, a rounding error slightly above 1).
 */
export function histogram(values: readonly number[], bins: number, min = 0, max = 1): number[] {
  const counts = new Array<number>(bins).fill(0);
  const width = (max - min) / bins;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    const index = Math.min(bins - 1, Math.max(0, Math.floor((v - min) / width)));
    counts[index] = (counts[index] ?? 0) + 1;
  }
  return counts;
}

/** Labels for histogram bins, e.g. "0.0–0.1". */
export function binLabels(bins: number, min = 0, max = 1): string[] {
  const width = (max - min) / bins;
  return Array.from(
    { length: bins },
    (_, i) => `${(min + i * width).toFixed(1)}–${(min + (i + 1) * width).toFixed(1)}`,
  );
}

export const selectEvaluationSummary = (s: EvaluationState): EvaluationSummary | null => s.summary;
export const selectEvaluationItems = (s: EvaluationState): EvaluationItemRow[] => s.items;
export const selectSavings = (s: EvaluationState): SavingsSummary | null => s.savings;
/** In-character share in MODEL_ROLES order (base, teacher, student); a derived array: use with useShallow. */
export const selectInCharacterShares = (s: EvaluationState): number[] =>
  s.summary ? MODEL_ROLES.map((role) => s.summary?.inCharacterShare[role] ?? 0) : [];
/** Per-item similarity of one model to the teacher; a derived array: use with useShallow. */
export const selectSimilarities =
  (model: 'student' | 'base', metric: 'difflib' | 'cosine') =>
  (s: EvaluationState): number[] =>
    s.items.map((item) => item.similarityToTeacher[model][metric]);
/** Evaluation items by question id, for the Data page's side-by-side view. */
