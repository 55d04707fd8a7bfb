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

export interface ExportRequest {
  outputDir?: string;
  /** The merged model too (safetensors + GGUF). */
  merged?: boolean;
  /** Replace an earlier export in a folder that is not empty. */
  overwrite?: boolean;
}

interface ActionsSlice {
  busyId: string | null;
  exported: {
    id: string;
    dir: string;
    files: string[];
    mergedDir: string | null;
    modelfile: string | null;
  } | null;
  /** An export refused because its folder is not empty, waiting for the user to confirm overwriting. */
  overwritePending: { id: string; request: ExportRequest; dir: string } | null;
  message: string | null;
  promote: (id: string) => Promise<void>;
  rollback: () => Promise<void>;
  exportAdapter: (id: string, request?: ExportRequest) => Promise<void>;
  confirmOverwrite: () => Promise<void>;
  cancelOverwrite: () => void;
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

const createActionsSlice: StateCreator<CheckpointsState, [], [], ActionsSlice> = (set, get) => ({
  busyId: null,
  exported: null,
  overwritePending: null,
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
  async exportAdapter(id, request = {}) {
    set({ busyId: id, error: null, message: null, overwritePending: null });
    try {
      const result = await api.invoke('checkpoints:export', {
        id,
        ...(request.outputDir ? { outputDir: request.outputDir } : {}),
        ...(request.merged ? { merged: true } : {}),
        ...(request.overwrite ? { overwrite: true } : {}),
      });
      set({ busyId: null, exported: { id, ...result }, message: `Exported to ${result.dir}` });
    } catch (error) {
      const payload = toErrorPayload(error);
      if (payload.code === 'conflict' && !request.overwrite) {
        const dir = typeof payload.detail?.dir === 'string' ? payload.detail.dir : (request.outputDir ?? '');
        set({ busyId: null, overwritePending: { id, request, dir } });
        return;
      }
      set({ busyId: null, error: payload });
    }
  },
  async confirmOverwrite() {
    const pending = get().overwritePending;
    if (pending) await get().exportAdapter(pending.id, { ...pending.request, overwrite: true });
  },
  cancelOverwrite() {
    set({ overwritePending: null });
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
    overwritePending: null,
    message: null,
  });
}

export const selectPromotedCheckpoint = (s: CheckpointsState): CheckpointRow | null =>
  s.rows.find((r) => r.state === 'promoted') ?? null;
/** Newest first; a derived array: use with useShallow. */
export const selectCheckpointsNewestFirst = (s: CheckpointsState): CheckpointRow[] =>
  s.rows.slice().sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.step - a.step);
