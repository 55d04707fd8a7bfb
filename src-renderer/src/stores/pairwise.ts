/**
 * The pairwise A/B review (Review page, "A/B pairs"): one held-out question at a time with the
 * student's and the teacher's answers as A and B, sources hidden until un-blinded; the reviewer
 * picks A, B or a tie, each saved at once (pairwise:choose), and moves on.
 */
import { useMemo } from 'react';
import { create, type StateCreator } from 'zustand';
import type {
  ApiErrorPayload,
  PairwiseChoice,
  PairwiseItem,
  PairwiseSheet,
  PairwiseSheetInfo,
  PairwiseSummary,
} from '../../../src-shared/contract';
import { api } from '../api';
import { safeStorage, toErrorPayload } from './errors';

const sheetKey = (runId: string): string => `character-studio.pairwiseSheet.${runId}`;

interface SheetSlice {
  sheet: PairwiseSheet | null;
  /** The run's pairwise sheets from the database, newest first. */
  sheets: PairwiseSheetInfo[];
  loading: boolean;
  error: ApiErrorPayload | null;
  /** Lists the run's sheets and opens the one this browser last had open, else the newest. */
  openRun: (runId: string) => Promise<void>;
  create: (runId: string) => Promise<void>;
  load: (sheetId: string) => Promise<void>;
  /** Saves one judgement at once; the pair updates optimistically and goes back if the save fails. */
  choose: (itemId: number, choice: PairwiseChoice | null) => Promise<void>;
}

interface FocusSlice {
  /** Index of the pair on screen in sheet.items. */
  index: number;
  focus: (index: number) => void;
  move: (delta: number) => void;
  /** Judges the pair on screen, then moves to the next one. */
  chooseFocused: (choice: PairwiseChoice) => Promise<void>;
}

interface SummarySlice {
  summary: PairwiseSummary | null;
  exported: { csvPath: string; reportPath: string | null } | null;
  summarize: (unblind: boolean) => Promise<void>;
  exportSheet: () => Promise<void>;
}

export type PairwiseState = SheetSlice & FocusSlice & SummarySlice;

function patchItem(sheet: PairwiseSheet | null, item: PairwiseItem): PairwiseSheet | null {
  if (!sheet) return sheet;
  return { ...sheet, items: sheet.items.map((i) => (i.id === item.id ? item : i)) };
}

function infoOf(sheet: PairwiseSheet, createdAt: string): PairwiseSheetInfo {
  return {
    id: sheet.id,
    runId: sheet.runId,
    unblinded: !sheet.blind,
    createdAt,
    judged: sheet.items.filter((i) => i.choice !== null).length,
    total: sheet.items.length,
  };
}

const createSheetSlice: StateCreator<PairwiseState, [], [], SheetSlice> = (set, get) => ({
  sheet: null,
  sheets: [],
  loading: false,
  error: null,
  async openRun(runId) {
    try {
      const sheets = await api.invoke('pairwise:list', { runId });
      set({ sheets });
      const remembered = safeStorage.get(sheetKey(runId));
      const target = sheets.find((s) => s.id === remembered) ?? sheets[0];
      if (target && get().sheet?.id !== target.id) await get().load(target.id);
      else if (!target) set({ sheet: null, summary: null, exported: null });
    } catch (error) {
      set({ error: toErrorPayload(error) });
    }
  },
  async create(runId) {
    set({ loading: true, error: null, summary: null, exported: null });
    try {
      const sheet = await api.invoke('pairwise:create', { runId });
      safeStorage.set(sheetKey(runId), sheet.id);
      set((s) => ({
        sheet,
        loading: false,
        index: 0,
        sheets: [infoOf(sheet, new Date().toISOString()), ...s.sheets],
      }));
    } catch (error) {
      set({ loading: false, error: toErrorPayload(error) });
    }
  },
  async load(sheetId) {
    set({ loading: true, error: null, summary: null, exported: null });
    try {
      const sheet = await api.invoke('pairwise:get', { sheetId });
      safeStorage.set(sheetKey(sheet.runId), sheet.id);
      // Continue at the first pair not yet judged (the last one when all are).
      const open = sheet.items.findIndex((i) => i.choice === null);
      set({ sheet, loading: false, index: open >= 0 ? open : Math.max(0, sheet.items.length - 1) });
    } catch (error) {
      set({ loading: false, error: toErrorPayload(error) });
    }
  },
  async choose(itemId, choice) {
    const before = get().sheet?.items.find((i) => i.id === itemId);
    if (!before) return;
    set((s) => ({ sheet: patchItem(s.sheet, { ...before, choice }), error: null }));
    try {
      const saved = await api.invoke('pairwise:choose', { itemId, choice });
      // A later choice on the same pair may already be on screen: keep it, take the rest.
      set((s) => {
        const local = s.sheet?.items.find((i) => i.id === itemId);
        return { sheet: patchItem(s.sheet, { ...saved, choice: local?.choice ?? saved.choice }) };
      });
    } catch (error) {
      // Never show a judgement that was not saved.
      set((s) => ({ sheet: patchItem(s.sheet, before), error: toErrorPayload(error) }));
    }
  },
});

const createFocusSlice: StateCreator<PairwiseState, [], [], FocusSlice> = (set, get) => ({
  index: 0,
  focus(index) {
    const count = get().sheet?.items.length ?? 0;
    set({ index: Math.min(Math.max(0, index), Math.max(0, count - 1)) });
  },
  move(delta) {
    get().focus(get().index + delta);
  },
  async chooseFocused(choice) {
    const item = get().sheet?.items[get().index];
    if (!item) return;
    get().move(1);
    await get().choose(item.id, choice);
  },
});

const createSummarySlice: StateCreator<PairwiseState, [], [], SummarySlice> = (set, get) => ({
  summary: null,
  exported: null,
  async summarize(unblind) {
    const sheet = get().sheet;
    if (!sheet) return;
    try {
      const summary = await api.invoke('pairwise:summary', { sheetId: sheet.id, unblind });
      set({ summary });
      // Un-blinding reveals which model wrote A and B: fetch the pairs again to show it.
      if (unblind && sheet.blind) {
        const fresh = await api.invoke('pairwise:get', { sheetId: sheet.id });
        set((s) => ({
          sheet: fresh,
          sheets: s.sheets.map((i) => (i.id === fresh.id ? { ...i, unblinded: true } : i)),
        }));
      }
    } catch (error) {
      set({ error: toErrorPayload(error) });
    }
  },
  async exportSheet() {
    const sheet = get().sheet;
    if (!sheet) return;
    try {
      set({ exported: await api.invoke('pairwise:export', { sheetId: sheet.id }) });
    } catch (error) {
      set({ error: toErrorPayload(error) });
    }
  },
});

export const usePairwiseStore = create<PairwiseState>()((...args) => ({
  ...createSheetSlice(...args),
  ...createFocusSlice(...args),
  ...createSummarySlice(...args),
}));

export function resetPairwiseStore(): void {
  usePairwiseStore.setState({
    sheet: null,
    sheets: [],
    loading: false,
    error: null,
    index: 0,
    summary: null,
    exported: null,
  });
}

export const selectPairwiseSheet = (s: PairwiseState): PairwiseSheet | null => s.sheet;
export const selectPairwiseIndex = (s: PairwiseState): number => s.index;
export const selectFocusedPair = (s: PairwiseState): PairwiseItem | null => s.sheet?.items[s.index] ?? null;
export const selectJudgedCount = (s: PairwiseState): number =>
  s.sheet?.items.filter((i) => i.choice !== null).length ?? 0;
export const selectPairCount = (s: PairwiseState): number => s.sheet?.items.length ?? 0;
export const selectPairwiseSummary = (s: PairwiseState): PairwiseSummary | null => s.summary;

/**
 * The sheet list with the open sheet's judged count taken from its pairs (the list's count is
 * what the database said when it was listed). Memoised: a new array on every render would loop.
 */
export function usePairwiseSheetsWithProgress(): PairwiseSheetInfo[] {
  const sheets = usePairwiseStore((s) => s.sheets);
  const sheet = usePairwiseStore(selectPairwiseSheet);
  return useMemo(
    () =>
      sheets.map((info) =>
        sheet && info.id === sheet.id
          ? { ...info, judged: sheet.items.filter((i) => i.choice !== null).length }
          : info,
      ),
    [sheets, sheet],
  );
}
