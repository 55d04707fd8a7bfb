/**
 * Types of the Open Character Training recipe that cross the renderer <-> main boundary:
 * its options (sequential or paper mode, the merge, introspection at scale), the smoke passes
 * before a paper-scale run, revealed preferences, per-stage measurements and drafted
 * constitutions. contract.ts uses them in its channels; both sides import them as types.
 */

/** The same shapes as contract.ts's (kept here so the two files do not import each other). */
type Interval = { low: number; high: number };
type ModelRole = 'student' | 'teacher' | 'base';
type ValidationIssue = { line: number | null; field: string | null; message: string };

/**
 * sequential: introspection SFT continues from the DPO adapter (one final checkpoint);
 * paper: introspection SFT trains from the base, and with merge the DPO and SFT adapters are
 * merged into one (a weighted sum of their low-rank updates).
 */
export const CHARACTER_MODES = ['sequential', 'paper'] as const;
export type CharacterMode = (typeof CHARACTER_MODES)[number];

export interface CharacterRecipeOptions {
  mode: CharacterMode;
  /** paper mode only: merge the DPO and SFT adapters into the run's final adapter. */
  merge: boolean;
  /** Weights of each adapter's update in the merged one (1 and 1: their plain sum). */
  mergeWeights: { dpo: number; sft: number };
  /** Self-reflection answers per introspection prompt (the paper: about 1,000). */
  reflectionSamples: number;
  /** Self-interaction transcripts, the character in conversation with itself (the paper: about 2,000). */
  interactions: number;
  /** Turns of each transcript, both speakers counted (at most 10). */
  interactionTurns: number;
  /**
   * Weight of the kd term on the teacher's captured top-k added to DPO's loss (0: the paper's
   * DPO with its NLL term only). Absent in runs stored before it: 0.
   */
  dpoKdWeight?: number;
  /**
   * How the introspection stage stays near the teacher. kd: the teacher (the base WITH the
   * constitution) writes the introspection data with its top-k captured, and the stage trains
   * kd on it and on the question -> answer rows; none: the paper's (the DPO checkpoint writes
   * it, SFT on the text). Absent in runs stored before it: none.
   */
  anchor?: CharacterAnchor;
  /**
   * Paper mode with merge: score a grid of merge weights on the VALIDATION questions and merge
   * with the best (the weights above are then only the fallback). Absent: false.
   */
  mergeGrid?: boolean;
}

export const CHARACTER_ANCHORS = ['kd', 'none'] as const;
export type CharacterAnchor = (typeof CHARACTER_ANCHORS)[number];

/** One point of paper mode's merge grid, scored on the validation questions. */
export interface MergeGridPoint {
  dpo: number;
  sft: number;
  captured: number;
  capturedInterval: Interval | null;
  inCharacterShare: number;
  inCharacterInterval: Interval;
  /** Answers scored for the in-character share (validation questions x samples). */
  n: number;
}

/** What the introspection stage will generate, before it starts. */
export interface IntrospectionEstimate {
  prompts: number;
  reflections: number;
  interactions: number;
  interactionTurns: number;
  /** Generated answers in all: reflections + interactions x turns. */
  generations: number;
  /** Upper bound of generated tokens (each answer at the scale's max new tokens). */
  maxTokens: number;
  /** Rough wall time on the local engine, from its measured speed on this kind of machine. */
  seconds: number;
}

export type SmokeSize = 'small' | 'large';
export type SmokeChoice = SmokeSize | 'both' | 'none';

export interface SmokePassResult {
  size: SmokeSize;
  runId: string;
  ok: boolean;
  seconds: number;
  /** The step that failed and its message, when not ok. */
  failedStep: string | null;
  error: string | null;
}

/** A trait the model may choose to act on: from the constitution, or from the fixed contrasting list. */
export interface RevealedTrait {
  trait: string;
  source: 'constitution' | 'contrast';
}

/**
 * Revealed preferences (after Open Character Training): each model is put in a scene where it
 * must act on one of two traits; both orders of every pair are asked (order bias cancels), and
 * Elo is computed over the traits from the choices it makes.
 */
export interface RevealedPreferencesSummary {
  traits: RevealedTrait[];
  /** Per model: trait -> Elo rating (1000 at the start). */
  elo: Partial<Record<ModelRole, Record<string, number>>>;
  /** Per model: how often a constitution trait was chosen over a contrasting one, with its interval. */
  constitutionShare: Partial<Record<ModelRole, { value: number; interval: Interval; n: number }>>;
  /** Choices made per model (two per pair and scene: both orders). */
  choices: Partial<Record<ModelRole, number>>;
  /** How a choice is read from the model, in a sentence. */
  method: string;
}

/** One stage of the character recipe measured like the final student. */
export interface StageMetrics {
  stage: 'dpo' | 'sft' | 'merged';
  checkpointId: string;
  /** 1 - KL_stage / KL_base per token on the held-out teacher answers (null without a local teacher). */
  captured: number | null;
  capturedInterval: Interval | null;
  klPerToken: number | null;
  /** Share of held-out answers the in-character classifier judges in character. */
  inCharacterShare: number;
  inCharacterInterval: Interval;
  n: number;
  /**
   * Mean embedding cosine of its held-out answers to the teacher's, with its interval, and the
   * base's beside it (a stage below the base has moved away from the teacher). Absent in
   * evaluations stored before it.
   */
  cosineToTeacher?: { stage: number; interval: Interval; base: number };
}

/** The checkpoints a merged adapter was made of (its lineage keeps both). */
export interface LineageParent {
  checkpointId: string;
  path: string;
  kind: 'dpo' | 'sft';
  weight: number;
}

/**
 * Where a draft stands ('personas:draftProgress'): stage 1 asks for the whole YAML in one reply,
 * stage 2 (only when that does not validate) one question per section; done when total is reached.
 */
export interface DraftProgress {
  /** The name being drafted, to tell drafts apart. */
  name: string;
  done: number;
  total: number;
  fraction: number;
  message: string;
}

/** A constitution drafted by a model from a name and a few lines, validated before it is shown. */
export interface ConstitutionDraft {
  /** Structured YAML, ready to edit and save. */
  source: string;
  issues: ValidationIssue[];
  /** What the model wrote, before it was put into the structure. */
  raw: string;
  /** Which model drafted it. */
  model: string;
  notes: string[];
}
