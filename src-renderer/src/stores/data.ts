import { create, type StateCreator } from 'zustand';
import type {
  ApiErrorPayload,
  AuditSummary,
  ImportedFile,
  ImportFormat,
  ImportSummary,
  TeacherExampleRow,
} from '../../../src-shared/contract';
import { api } from '../api';
import { toErrorPayload } from './errors';

export const PAGE_SIZE = 25;

interface ExamplesSlice {
  runId: string | null;
  rows: TeacherExampleRow[];
  total: number;
  categories: string[];
  flags: string[];
  category: string;
  flag: string;
  offset: number;
  loading: boolean;
  error: ApiErrorPayload | null;
  setFilter: (filter: { category?: string; flag?: string }) => void;
  setOffset: (offset: number) => void;
  loadExamples: (runId: string) => Promise<void>;
}

interface AuditSlice {
  audit: AuditSummary | null;
  loadAudit: (runId: string) => Promise<void>;
}

/** Bringing a file in (data:import) and the files already in the imports folder (data:imports). */
interface ImportSlice {
  imports: ImportedFile[];
  lastImport: ImportSummary | null;
  importing: boolean;
  importError: ApiErrorPayload | null;
  loadImports: () => Promise<void>;
  importFile: (request: {
    path: string;
    format?: ImportFormat;
    character?: string;
    force?: boolean;
  }) => Promise<ImportSummary | null>;
}

export type DataState = ExamplesSlice & AuditSlice & ImportSlice;

type ImportData = Omit<ImportSlice, 'loadImports' | 'importFile'>;

function initialImport(): ImportData {
  return { imports: [], lastImport: null, importing: false, importError: null };
}

type ExamplesData = Omit<ExamplesSlice, 'setFilter' | 'setOffset' | 'loadExamples'>;

/** The examples slice before anything is loaded (fresh arrays each call). */
function initialExamples(): ExamplesData {
  return {
    runId: null,
    rows: [],
    total: 0,
    categories: [],
    flags: [],
    category: '',
    flag: '',
    offset: 0,
    loading: false,
    error: null,
  };
}

const createExamplesSlice: StateCreator<DataState, [], [], ExamplesSlice> = (set, get) => ({
  ...initialExamples(),
  setFilter(filter) {
    set({ ...filter, offset: 0 });
  },
  setOffset(offset) {
    set({ offset: Math.max(0, offset) });
  },
  async loadExamples(runId) {
    if (get().runId !== runId)
      set({ runId, offset: 0, category: '', flag: '', rows: [], total: 0, audit: null });
    const { category, flag, offset } = get();
    set({ loading: true, error: null });
    try {
      const result = await api.invoke('data:examples', {
        runId,
        ...(category ? { category } : {}),
        ...(flag ? { flag } : {}),
        offset,
        limit: PAGE_SIZE,
      });
      set({ ...result, loading: false });
    } catch (error) {
      set({ loading: false, error: toErrorPayload(error) });
    }
  },
});

const createAuditSlice: StateCreator<DataState, [], [], AuditSlice> = (set) => ({
  audit: null,
  async loadAudit(runId) {
    try {
      const audit = await api.invoke('data:audit', { runId });
      set({ audit });
    } catch (error) {
      set({ error: toErrorPayload(error) });
    }
  },
});

const createImportSlice: StateCreator<DataState, [], [], ImportSlice> = (set, get) => ({
  ...initialImport(),
  async loadImports() {
    try {
      set({ imports: await api.invoke('data:imports', undefined) });
    } catch (error) {
      set({ importError: toErrorPayload(error) });
    }
  },
  async importFile(request) {
    set({ importing: true, importError: null, lastImport: null });
    try {
      const summary = await api.invoke('data:import', {
        path: request.path,
        ...(request.format ? { format: request.format } : {}),
        ...(request.character ? { character: request.character } : {}),
        ...(request.force ? { force: true } : {}),
      });
      set({ importing: false, lastImport: summary });
      await get().loadImports();
      return summary;
    } catch (error) {
      set({ importing: false, importError: toErrorPayload(error) });
      return null;
    }
  },
});

export const useDataStore = create<DataState>()((...args) => ({
  ...createExamplesSlice(...args),
  ...createAuditSlice(...args),
  ...createImportSlice(...args),
}));

export function resetDataStore(): void {
  useDataStore.setState({ ...initialExamples(), audit: null, ...initialImport() });
}

export const selectExampleRows = (s: DataState): TeacherExampleRow[] => s.rows;
export const selectAudit = (s: DataState): AuditSummary | null => s.audit;
export const selectPage = (s: DataState): { page: number; pages: number } => ({
  page: Math.floor(s.offset / PAGE_SIZE) + 1,
  pages: Math.max(1, Math.ceil(s.total / PAGE_SIZE)),
});
export const selectImports = (s: DataState): ImportedFile[] => s.imports;
