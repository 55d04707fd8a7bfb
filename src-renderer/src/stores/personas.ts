import { create, type StateCreator } from 'zustand';
import type {
  ApiErrorPayload,
  PersonaDetail,
  PersonaSummary,
  ValidationIssue,
} from '../../../src-shared/contract';
import { api } from '../api';
import { toErrorPayload } from './errors';

export type PersonaFormat = 'yaml' | 'text';

export interface ValidationResult {
  issues: ValidationIssue[];
  wordCount: number;
  tokenCount: number | null;
}

/** Starting point for a new persona, so the editor never opens blank. */
export const NEW_PERSONA_TEMPLATES: Record<PersonaFormat, string> = {
  yaml: `meta:
  id: new-character
  name: New character
  version: 1
  description: One line about who this is.

persona:
  identity: |
    You are ... Say who the character is, where and when they speak from, and what shaped them.

directives:
  personality:
    - A trait, and how it shows.
  behavior:
    - What the character does in a conversation.
  speech_patterns:
    - How the character talks - address, vocabulary, rhythm.
  constraints:
    - Stay in character; you know nothing after your own time.

safety:
  refusals:
    - Refuse harmful requests, in character.

signoffs:
  - "A typical closing line."

keywords:
  - keyword
`,
  text: `You are ... Describe the character's history, personality, beliefs, relationships
and the way they speak. A good constitution is 450-600 words.
`,
};

interface ListSlice {
  personas: PersonaSummary[];
  loading: boolean;
  error: ApiErrorPayload | null;
  load: () => Promise<void>;
}

interface EditorSlice {
  /** The editor stays open once a persona is picked or started, however much text is deleted. */
  editorOpen: boolean;
  selectedId: string | null;
  detail: PersonaDetail | null;
  draft: string;
  format: PersonaFormat;
  dirty: boolean;
  validation: ValidationResult | null;
  validating: boolean;
  saving: boolean;
  savedMessage: string | null;
  /** A save refused because the id is a built-in's: it waits for the user to confirm. */
  builtInConflict: string | null;
  select: (id: string) => Promise<void>;
  startNew: (format: PersonaFormat) => void;
  setDraft: (source: string) => void;
  setFormat: (format: PersonaFormat) => void;
  validate: () => Promise<void>;
  /** newVersionOfBuiltIn: the user confirmed saving over a built-in's id (its next version). */
  save: (newVersionOfBuiltIn?: boolean) => Promise<PersonaSummary | null>;
  cancelBuiltInSave: () => void;
}

export type PersonasState = ListSlice & EditorSlice;

/** Words as the editor counts them while typing (the main side's count arrives with validation). */
export function countWords(text: string): number {
  const words = text.trim().split(/\s+/);
  return words[0] === '' ? 0 : words.length;
}

const createListSlice: StateCreator<PersonasState, [], [], ListSlice> = (set) => ({
  personas: [],
  loading: false,
  error: null,
  async load() {
    set({ loading: true, error: null });
    try {
      const personas = await api.invoke('personas:list', undefined);
      set({ personas, loading: false });
    } catch (error) {
      set({ loading: false, error: toErrorPayload(error) });
    }
  },
});

type EditorSliceData = Omit<
  EditorSlice,
  'select' | 'startNew' | 'setDraft' | 'setFormat' | 'validate' | 'save' | 'cancelBuiltInSave'
>;

/** The editor before a persona is selected (shared by the slice and resetPersonasStore). */
function initialEditor(): EditorSliceData {
  return {
    editorOpen: false,
    selectedId: null,
    detail: null,
    draft: '',
    format: 'yaml',
    dirty: false,
    validation: null,
    validating: false,
    saving: false,
    savedMessage: null,
    builtInConflict: null,
  };
}

const createEditorSlice: StateCreator<PersonasState, [], [], EditorSlice> = (set, get) => ({
  ...initialEditor(),
  async select(id) {
    set({ editorOpen: true, selectedId: id, error: null, savedMessage: null });
    try {
      const detail = await api.invoke('personas:get', { id });
      if (get().selectedId !== id) return;
      set({ detail, draft: detail.source, format: detail.format, dirty: false, validation: null });
    } catch (error) {
      set({ error: toErrorPayload(error) });
    }
  },
  startNew(format) {
    set({
      editorOpen: true,
      selectedId: null,
      detail: null,
      draft: NEW_PERSONA_TEMPLATES[format],
      format,
      dirty: true,
      validation: null,
      savedMessage: null,
    });
  },
  setDraft(source) {
    // An empty draft is not validated (nothing to check): drop the last verdict, which was about
    // other text, so "No problems found." never stands beside an empty editor.
    set({
      draft: source,
      dirty: true,
      savedMessage: null,
      ...(source.trim() === '' ? { validation: null } : {}),
    });
  },
  setFormat(format) {
    set({ format, dirty: true });
  },
  async validate() {
    const { draft, format } = get();
    set({ validating: true });
    try {
      const validation = await api.invoke('personas:validate', { source: draft, format });
      // A slow answer for text that has changed since is stale: drop it.
      if (get().draft !== draft || get().format !== format) return;
      set({ validation, validating: false });
    } catch (error) {
      set({ validating: false, error: toErrorPayload(error) });
    }
  },
  async save(newVersionOfBuiltIn = false) {
    const { draft, format } = get();
    set({ saving: true, error: null, savedMessage: null, builtInConflict: null });
    try {
      const saved = await api.invoke('personas:save', {
        source: draft,
        format,
        ...(newVersionOfBuiltIn ? { newVersionOfBuiltIn: true } : {}),
      });
      set((s) => ({
        saving: false,
        dirty: false,
        selectedId: saved.id,
        savedMessage: `Saved ${saved.name} as version ${saved.version}`,
        personas: [...s.personas.filter((p) => p.id !== saved.id), saved],
      }));
      return saved;
    } catch (error) {
      const payload = toErrorPayload(error);
      const builtIn = payload.code === 'conflict' && payload.detail?.builtIn === true;
      set({
        saving: false,
        error: builtIn ? null : payload,
        builtInConflict: builtIn ? String(payload.detail?.id ?? '') : null,
      });
      return null;
    }
  },
  cancelBuiltInSave() {
    set({ builtInConflict: null });
  },
});

export const usePersonasStore = create<PersonasState>()((...args) => ({
  ...createListSlice(...args),
  ...createEditorSlice(...args),
}));

export function resetPersonasStore(): void {
  usePersonasStore.setState({ personas: [], loading: false, error: null, ...initialEditor() });
}

export const selectPersonas = (s: PersonasState): PersonaSummary[] => s.personas;
export const selectValidationIssues = (s: PersonasState): ValidationIssue[] => s.validation?.issues ?? [];
export const selectDraftWordCount = (s: PersonasState): number => countWords(s.draft);
export const selectCanSave = (s: PersonasState): boolean =>
  !s.saving && s.draft.trim().length > 0 && (s.validation?.issues.length ?? 0) === 0;
