import { create, type StateCreator } from 'zustand';
import type {
  CharacterRecipeOptions,
  ConstitutionDraft,
  DraftProgress,
  IntrospectionEstimate,
  SmokeChoice,
  SmokePassResult,
} from '../../../src-shared/character';
import type { ApiErrorPayload } from '../../../src-shared/contract';
import { api } from '../api';
import { toErrorPayload } from './errors';

/** The character recipe of the selected run: its options (edited before training), estimate and smoke passes. */
interface RecipeSlice {
  runId: string | null;
  recipe: string | null;
  options: CharacterRecipeOptions | null;
  estimate: IntrospectionEstimate | null;
  recipeError: ApiErrorPayload | null;
  smoking: boolean;
  smoke: { ok: boolean; passes: SmokePassResult[] } | null;
  loadRecipe: (runId: string) => Promise<void>;
  setOption: <K extends keyof CharacterRecipeOptions>(key: K, value: CharacterRecipeOptions[K]) => void;
  runSmoke: (runId: string, which: SmokeChoice) => Promise<void>;
}

/** Drafting a constitution with a model (the Personas page). */
interface DraftSlice {
  draftName: string;
  draftAbout: string;
  draftProvider: 'local' | 'openai';
  drafting: boolean;
  lastDraft: ConstitutionDraft | null;
  draftError: ApiErrorPayload | null;
  /** The running draft's stage ('personas:draftProgress'); null when none runs. */
  draftProgress: DraftProgress | null;
  receiveDraftProgress: (event: DraftProgress) => void;
  setDraftField: (field: 'draftName' | 'draftAbout', value: string) => void;
  setDraftProvider: (provider: 'local' | 'openai') => void;
  /** The validated draft, or null on failure (draftError says why). */
  draftConstitution: () => Promise<ConstitutionDraft | null>;
}

export type CharacterState = RecipeSlice & DraftSlice;

function initialRecipe(): Pick<
  RecipeSlice,
  'runId' | 'recipe' | 'options' | 'estimate' | 'recipeError' | 'smoking' | 'smoke'
> {
  return {
    runId: null,
    recipe: null,
    options: null,
    estimate: null,
    recipeError: null,
    smoking: false,
    smoke: null,
  };
}

function initialDraft(): Pick<
  DraftSlice,
  'draftName' | 'draftAbout' | 'draftProvider' | 'drafting' | 'lastDraft' | 'draftError' | 'draftProgress'
> {
  return {
    draftName: '',
    draftAbout: '',
    draftProvider: 'local',
    drafting: false,
    lastDraft: null,
    draftError: null,
    draftProgress: null,
  };
}

const createRecipeSlice: StateCreator<CharacterState, [], [], RecipeSlice> = (set, get) => ({
  ...initialRecipe(),
  async loadRecipe(runId) {
    if (get().runId !== runId) set({ ...initialRecipe(), runId });
    try {
      const r = await api.invoke('training:recipe', { runId });
      if (get().runId !== runId) return;
      set({ recipe: r.recipe, options: r.character, estimate: r.estimate, recipeError: null });
    } catch (error) {
      set({ recipeError: toErrorPayload(error) });
    }
  },
  setOption(key, value) {
    const options = get().options;
    if (!options) return;
    const next = { ...options, [key]: value };
    // Merging belongs to paper mode: leaving paper mode turns it off.
    if (key === 'mode' && value === 'sequential') next.merge = false;
    set({ options: next });
  },
  async runSmoke(runId, which) {
    set({ smoking: true, smoke: null, recipeError: null });
    try {
      const smoke = await api.invoke('runs:smoke', { runId, which });
      set({ smoking: false, smoke });
    } catch (error) {
      set({ smoking: false, recipeError: toErrorPayload(error) });
    }
  },
});

const createDraftSlice: StateCreator<CharacterState, [], [], DraftSlice> = (set, get) => ({
  ...initialDraft(),
  setDraftField(field, value) {
    set({ [field]: value } as Pick<DraftSlice, typeof field>);
  },
  setDraftProvider(provider) {
    set({ draftProvider: provider });
  },
  receiveDraftProgress(event) {
    // Only the draft this window asked for, while it runs.
    const { drafting, draftName } = get();
    if (drafting && event.name === draftName.trim()) set({ draftProgress: event });
  },
  async draftConstitution() {
    const { draftName, draftAbout, draftProvider } = get();
    set({ drafting: true, draftError: null, lastDraft: null, draftProgress: null });
    try {
      const draft = await api.invoke('personas:draft', {
        name: draftName,
        about: draftAbout,
        provider: draftProvider,
      });
      set({ drafting: false, lastDraft: draft, draftProgress: null });
      return draft;
    } catch (error) {
      set({ drafting: false, draftError: toErrorPayload(error), draftProgress: null });
      return null;
    }
  },
});

export const useCharacterStore = create<CharacterState>()((...args) => ({
  ...createRecipeSlice(...args),
  ...createDraftSlice(...args),
}));

export function resetCharacterStore(): void {
  useCharacterStore.setState({ ...initialRecipe(), ...initialDraft() });
}

export const selectCharacterOptions = (s: CharacterState): CharacterRecipeOptions | null => s.options;
export const selectIsCharacterRecipe = (s: CharacterState): boolean => s.recipe === 'character';
export const selectIntrospectionEstimate = (s: CharacterState): IntrospectionEstimate | null => s.estimate;
export const selectSmoke = (s: CharacterState): CharacterState['smoke'] => s.smoke;
export const selectLastDraft = (s: CharacterState): ConstitutionDraft | null => s.lastDraft;

/**
 * The introspection counts of the options as edited (the loaded estimate is for the stored
 * ones): answers from the counts, tokens and seconds at the loaded estimate's per-answer rates.
 */
export const selectLiveEstimate = (s: CharacterState): IntrospectionEstimate | null => {
  const o = s.options;
  const e = s.estimate;
  if (!o || !e) return null;
  const reflections = e.prompts * o.reflectionSamples;
  const generations = reflections + o.interactions * o.interactionTurns;
  const tokensPerAnswer = e.generations > 0 ? e.maxTokens / e.generations : 0;
  const secondsPerToken = e.maxTokens > 0 ? e.seconds / e.maxTokens : 0;
  const maxTokens = Math.round(generations * tokensPerAnswer);
  return {
    prompts: e.prompts,
    reflections,
    interactions: o.interactions,
    interactionTurns: o.interactionTurns,
    generations,
    maxTokens,
    seconds: Math.round(maxTokens * secondsPerToken),
  };
};
