import { create, type StateCreator } from 'zustand';
import type { ApiErrorPayload, CheckpointRow } from '../../../src-shared/contract';
import { api } from '../api';
import { toErrorPayload } from './errors';

interface ListSlice {
  rows: CheckpointRow[];
  loading: boolean;
  error: ApiErrorPayload | null;
  /** All checkpoints (runId null) or one run's. */
  load: (runId: string | null) => Promise<void>;
}

interface ActionsSlice {
  busyId: string | null;
  exported: { id: string; dir: string; files: string[] } | null;
  message: string | null;
  promote: (id: string) => Promise<void>;
  rollback: () => Promise<void>;
  exportAdapter: (id: string, outputDir?: string) => Promise<void>;
}

export type CheckpointsState = ListSlice & ActionsSlice;

function replaceRow(rows: CheckpointRow[], row: CheckpointRow): CheckpointRow[] {
  // Promotion demotes the previously promoted checkpoint: mirror that until the next reload.
  return rows.map((r) =>
    r.id === row.id
      ? row
      : row.state === 'promoted' && r.state === 'promoted'
        ? { ...r, state: 'archived' }
        : r,
  );
}

const createListSlice: StateCreator<CheckpointsState, [], [], ListSlice> = (set) => ({
  rows: [],
  loading: false,
  error: null,
  async load(runId) {
    set({ loading: true, error: null });
    try {
      const rows = await api.invoke('checkpoints:list', runId ? { runId } : {});
      set({ rows, loading: false });
    } catch (error) {
      set({ loading: false, error: toErrorPayload(error) });
    }
  },
});

const createActionsSlice: StateCreator<CheckpointsState, [], [], ActionsSlice> = (set) => ({
  busyId: null,
  exported: null,
  message: null,
  async promote(id) {
    set({ busyId: id, error: null, message: null });
    try {
      const row = await api.invoke('checkpoints:promote', { id });
      set((s) => ({ rows: replaceRow(s.rows, row), busyId: null, message: `Promoted step ${row.step}` }));
    } catch (error) {
      set({ busyId: null, error: toErrorPayload(error) });
    }
  },
  async rollback() {
    set({ busyId: 'rollback', error: null, message: null });
    try {
      const row = await api.invoke('checkpoints:rollback', undefined);
      set((s) => ({
        rows: row ? replaceRow(s.rows, row) : s.rows,
        busyId: null,
        message: row ? `Rolled back to step ${row.step} (${row.id})` : 'Nothing to roll back to',
      }));
    } catch (error) {
      set({ busyId: null, error: toErrorPayload(error) });
    }
  },
  async exportAdapter(id, outputDir) {
    set({ busyId: id, error: null, message: null });
    try {
      const result = await api.invoke('checkpoints:export', outputDir ? { id, outputDir } : { id });
      set({ busyId: null, exported: { id, ...result }, message: `Exported to ${result.dir}` });
    } catch (error) {
      set({ busyId: null, error: toErrorPayload(error) });
    }
  },
});

export const useCheckpointsStore = create<CheckpointsState>()((...args) => ({
  ...createListSlice(...args),
  ...createActionsSlice(...args),
}));

export function resetCheckpointsStore(): void {
  useCheckpointsStore.setState({
    rows: [],
    loading: false,
    error: null,
    busyId: null,
    exported: null,
    message: null,
  });
}

export const selectPromotedCheckpoint = (s: CheckpointsState): CheckpointRow | null =>
  s.rows.find((r) => r.state === 'promoted') ?? null;
/** Newest first; a derived array: use with useShallow. */
export const selectCheckpointsNewestFirst = (s: CheckpointsState): CheckpointRow[] =>
  s.rows.slice().sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.step - a.step);
