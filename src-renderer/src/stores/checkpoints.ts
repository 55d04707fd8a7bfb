import { create, type StateCreator } from 'zustand';
import type { ApiErrorPayload, CheckpointListRow } from '../../../src-shared/contract';
import { api } from '../api';
import { toErrorPayload } from './errors';

interface ListSlice {
  rows: CheckpointListRow[];
  /** The filter of the last load, so an action reloads the same list. */
  runId: string | null;
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

const createListSlice: StateCreator<CheckpointsState, [], [], ListSlice> = (set, get) => ({
  rows: [],
  runId: null,
  loading: false,
  error: null,
  async load(runId) {
    set({ loading: true, error: null, runId });
    try {
      const rows = await api.invoke('checkpoints:list', runId ? { runId } : {});
      // A slower earlier load for another filter must not overwrite this one.
      if (get().runId !== runId) return;
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
      // Promotion moves other rows too (the old current one, the archived tail): show the
      // registry's own list rather than guessing those changes here.
      await get().load(get().runId);
      set({
        busyId: null,
        message: `Promoted step ${row.step}: chat, sample and serve-model now use ${row.id}`,
      });
    } catch (error) {
      set({ busyId: null, error: toErrorPayload(error) });
    }
  },
  async rollback() {
    set({ busyId: 'rollback', error: null, message: null });
    try {
      const row = await api.invoke('checkpoints:rollback', undefined);
      await get().load(get().runId);
      set({
        busyId: null,
        message: row ? `Rolled back to step ${row.step} (${row.id})` : 'Nothing to roll back to',
      });
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
    runId: null,
    loading: false,
    error: null,
    busyId: null,
    exported: null,
    overwritePending: null,
    message: null,
  });
}

/** The top of the promoted stack (what Promote and Rollback move). */
export const selectCurrentCheckpoint = (s: CheckpointsState): CheckpointListRow | null =>
  s.rows.find((r) => r.current) ?? null;
/** What chat, sample and serve-model use: `checkpoint use`'s choice, else the current one. */
export const selectActiveCheckpoint = (s: CheckpointsState): CheckpointListRow | null =>
  s.rows.find((r) => r.active) ?? null;
/** Newest first; a derived array: use with useShallow. */
export const selectCheckpointsNewestFirst = (s: CheckpointsState): CheckpointListRow[] =>
  s.rows.slice().sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.step - a.step);
