import { useMemo } from 'react';
import { create, type StateCreator } from 'zustand';
import {
  REVIEW_DIMENSIONS,
  type ApiErrorPayload,
  type ReviewDimension,
  type ReviewItem,
  type ReviewSheet,
  type ReviewSheetInfo,
  type ReviewSummary,
} from '../../../src-shared/contract';
import { api } from '../api';
import { safeStorage, toErrorPayload } from './errors';

const sheetKey = (runId: string): string => `character-studio.reviewSheet.${runId}`;

/** The sheet id last opened for a run, so a reload continues the same review. */
export function rememberedSheetId(runId: string): string | null {
  return safeStorage.get(sheetKey(runId));
}

interface SheetSlice {
  sheet: ReviewSheet | null;
  /** The run's sheets from the database, newest first. */
  sheets: ReviewSheetInfo[];
  loading: boolean;
  error: ApiErrorPayload | null;
  /**
   * Lists the run's sheets and opens one: the one this browser last had open when it is among
   * them, else the newest; so a half-rated sheet is found again after a new browser, port or
   * cleared storage.
   */
  openRun: (runId: string) => Promise<void>;
  /** Lists the run's sheets only (the wizard's Review card), without opening one. */
  loadSheets: (runId: string) => Promise<void>;
  create: (runId: string, blind: boolean) => Promise<void>;
  load: (sheetId: string) => Promise<void>;
  /** Saves one rating immediately (review:rate); the item updates optimistically. */
  rate: (itemId: number, dimension: ReviewDimension, value: number) => Promise<void>;
  setNoteDraft: (itemId: number, note: string) => void;
  saveNote: (itemId: number) => Promise<void>;
}

interface FocusSlice {
  /** Index of the focused item in sheet.items. */
  itemIndex: number;
  /** Index of the focused dimension in REVIEW_DIMENSIONS. */
  dimensionIndex: number;
  focus: (itemIndex: number, dimensionIndex: number) => void;
  moveItem: (delta: number) => void;
  moveDimension: (delta: number) => void;
  /** Rates the focused dimension of the focused item, then advances to the next dimension (and item). */
  rateFocused: (value: number) => Promise<void>;
}

interface SummarySlice {
  summary: ReviewSummary | null;
  exportPaths: { csvPath: string; txtPath: string } | null;
  summarize: (unblind: boolean) => Promise<void>;
  exportSheet: () => Promise<void>;
}

export type ReviewState = SheetSlice & FocusSlice & SummarySlice;

function patchItem(sheet: ReviewSheet | null, item: ReviewItem): ReviewSheet | null {
  if (!sheet) return sheet;
  return { ...sheet, items: sheet.items.map((i) => (i.id === item.id ? item : i)) };
}

const createSheetSlice: StateCreator<ReviewState, [], [], SheetSlice> = (set, get) => ({
  sheet: null,
  sheets: [],
  loading: false,
  error: null,
  async openRun(runId) {
    try {
      const sheets = await api.invoke('review:list', { runId });
      set({ sheets });
      const remembered = rememberedSheetId(runId);
      const target = sheets.find((s) => s.id === remembered) ?? sheets[0];
      if (target && get().sheet?.id !== target.id) await get().load(target.id);
    } catch (error) {
      set({ error: toErrorPayload(error) });
    }
  },
  async loadSheets(runId) {
    try {
      const sheets = await api.invoke('review:list', { runId });
      set({ sheets });
    } catch (error) {
      set({ error: toErrorPayload(error) });
    }
  },
  async create(runId, blind) {
    set({ loading: true, error: null, summary: null, exportPaths: null });
    try {
      const sheet = await api.invoke('review:create', { runId, blind });
      safeStorage.set(sheetKey(runId), sheet.id);
      set((s) => ({
        sheet,
        loading: false,
        itemIndex: 0,
        dimensionIndex: 0,
        sheets: [
          {
            id: sheet.id,
            runId,
            blind: sheet.blind,
            unblinded: false,
            createdAt: new Date().toISOString(),
            rated: 0,
            total: sheet.items.length,
          },
          ...s.sheets,
        ],
      }));
    } catch (error) {
      set({ loading: false, error: toErrorPayload(error) });
    }
  },
  async load(sheetId) {
    set({ loading: true, error: null });
    try {
      const sheet = await api.invoke('review:get', { sheetId });
      // Continue at the first item that still lacks a rating.
      const firstOpen = sheet.items.findIndex((i) =>
        REVIEW_DIMENSIONS.some((d) => i.ratings[d] === undefined),
      );
      safeStorage.set(sheetKey(sheet.runId), sheet.id);
      // The sheet being left keeps the count it reached in the list.
      const left = get().sheet;
      set((s) => ({
        sheets: left ? selectSheetsWithProgress(s) : s.sheets,
        sheet,
        loading: false,
        itemIndex: Math.max(0, firstOpen),
        dimensionIndex: 0,
      }));
    } catch (error) {
      set({ loading: false, error: toErrorPayload(error) });
    }
  },
  async rate(itemId, dimension, value) {
    if (!Number.isInteger(value) || value < 1 || value > 5) return;
    const before = get().sheet?.items.find((i) => i.id === itemId);
    if (!before) return;
    set((s) => ({
      sheet: patchItem(s.sheet, { ...before, ratings: { ...before.ratings, [dimension]: value } }),
    }));
    try {
      const saved = await api.invoke('review:rate', { itemId, dimension, value });
      // Ratings typed fast overlap in flight and their answers can arrive out of order: the
      // ratings on screen (each saved or being saved) win over the ones in an older answer.
      set((s) => {
        const local = s.sheet?.items.find((i) => i.id === itemId);
        return {
          sheet: patchItem(s.sheet, {
            ...saved,
            ratings: { ...saved.ratings, ...local?.ratings },
            note: local?.note ?? saved.note,
          }),
        };
      });
    } catch (error) {
      // Put the previous rating back so the screen never shows a rating that was not saved.
      const latest = get().sheet?.items.find((i) => i.id === itemId);
      if (latest) {
        const ratings = { ...latest.ratings };
        if (before.ratings[dimension] === undefined) delete ratings[dimension];
        else ratings[dimension] = before.ratings[dimension];
        set((s) => ({ sheet: patchItem(s.sheet, { ...latest, ratings }) }));
      }
      set({ error: toErrorPayload(error) });
    }
  },
  setNoteDraft(itemId, note) {
    const item = get().sheet?.items.find((i) => i.id === itemId);
    if (item) set((s) => ({ sheet: patchItem(s.sheet, { ...item, note }) }));
  },
  async saveNote(itemId) {
    const item = get().sheet?.items.find((i) => i.id === itemId);
    if (!item) return;
    try {
      const saved = await api.invoke('review:note', { itemId, note: item.note });
      set((s) => ({
        sheet: patchItem(s.sheet, { ...saved, ratings: { ...saved.ratings, ...item.ratings } }),
      }));
    } catch (error) {
      set({ error: toErrorPayload(error) });
    }
  },
});

const createFocusSlice: StateCreator<ReviewState, [], [], FocusSlice> = (set, get) => ({
  itemIndex: 0,
  dimensionIndex: 0,
  focus(itemIndex, dimensionIndex) {
    const count = get().sheet?.items.length ?? 0;
    set({
      itemIndex: Math.min(Math.max(0, itemIndex), Math.max(0, count - 1)),
      dimensionIndex: Math.min(Math.max(0, dimensionIndex), REVIEW_DIMENSIONS.length - 1),
    });
  },
  moveItem(delta) {
    const { itemIndex, dimensionIndex } = get();
    get().focus(itemIndex + delta, dimensionIndex);
  },
  moveDimension(delta) {
    const { itemIndex, dimensionIndex } = get();
    const count = get().sheet?.items.length ?? 0;
    const flat = itemIndex * REVIEW_DIMENSIONS.length + dimensionIndex + delta;
    const last = count * REVIEW_DIMENSIONS.length - 1;
    const clamped = Math.min(Math.max(0, flat), Math.max(0, last));
    set({
      itemIndex: Math.floor(clamped / REVIEW_DIMENSIONS.length),
      dimensionIndex: clamped % REVIEW_DIMENSIONS.length,
    });
  },
  async rateFocused(value) {
    const { sheet, itemIndex, dimensionIndex } = get();
    const item = sheet?.items[itemIndex];
    const dimension = REVIEW_DIMENSIONS[dimensionIndex];
    if (!item || !dimension) return;
    get().moveDimension(1);
    await get().rate(item.id, dimension, value);
  },
});

const createSummarySlice: StateCreator<ReviewState, [], [], SummarySlice> = (set, get) => ({
  summary: null,
  exportPaths: null,
  async summarize(unblind) {
    const sheet = get().sheet;
    if (!sheet) return;
    try {
      const summary = await api.invoke('review:summary', { sheetId: sheet.id, unblind });
      set({ summary });
      // Un-blinding reveals each item's source: fetch the sheet again to show it.
      if (unblind && sheet.blind) {
        const fresh = await api.invoke('review:get', { sheetId: sheet.id });
        set({ sheet: fresh });
      }
    } catch (error) {
      set({ error: toErrorPayload(error) });
    }
  },
  async exportSheet() {
    const sheet = get().sheet;
    if (!sheet) return;
    try {
      const exportPaths = await api.invoke('review:export', { sheetId: sheet.id });
      set({ exportPaths });
    } catch (error) {
      set({ error: toErrorPayload(error) });
    }
  },
});

export const useReviewStore = create<ReviewState>()((...args) => ({
  ...createSheetSlice(...args),
  ...createFocusSlice(...args),
  ...createSummarySlice(...args),
}));

export function resetReviewStore(): void {
  useReviewStore.setState({
    sheet: null,
    sheets: [],
    loading: false,
    error: null,
    itemIndex: 0,
    dimensionIndex: 0,
    summary: null,
    exportPaths: null,
  });
}

/** An item counts as rated when all four dimensions have a rating. */
export function isItemRated(item: ReviewItem): boolean {
  return REVIEW_DIMENSIONS.every((d) => item.ratings[d] !== undefined);
}

export const selectReviewSheet = (s: ReviewState): ReviewSheet | null => s.sheet;
export const selectRatedCount = (s: ReviewState): number => s.sheet?.items.filter(isItemRated).length ?? 0;
export const selectReviewTotal = (s: ReviewState): number => s.sheet?.items.length ?? 0;
export const selectFocusedDimension = (s: ReviewState): ReviewDimension =>
  REVIEW_DIMENSIONS[s.dimensionIndex] ?? REVIEW_DIMENSIONS[0];
export const selectReviewSummary = (s: ReviewState): ReviewSummary | null => s.summary;
/**
 * The sheet list with the open sheet's count taken from its items: the list's `rated` is what the
 * database said when it was listed, the open sheet's items are what has been rated since.
 * A new array with a new object for the open sheet on every call: a component must not subscribe
 * to it directly (useShallow compares elements by identity, so each render would see a change and
 * React stops with "Maximum update depth exceeded"); use `useSheetsWithProgress`.
 */
export const selectSheetsWithProgress = (s: Pick<ReviewState, 'sheets' | 'sheet'>): ReviewSheetInfo[] =>
  s.sheets.map((info) =>
    s.sheet && info.id === s.sheet.id ? { ...info, rated: s.sheet.items.filter(isItemRated).length } : info,
  );

/** The sheet list with progress, recomputed only when the list or the open sheet changes. */
export function useSheetsWithProgress(): ReviewSheetInfo[] {
  const sheets = useReviewStore((s) => s.sheets);
  const sheet = useReviewStore((s) => s.sheet);
  return useMemo(() => selectSheetsWithProgress({ sheets, sheet }), [sheets, sheet]);
}
