/** What an evaluation takes and gives; the phases (answers, classifier, scores, judge, files) share these. */
import type { EvaluationSummary, ModelRole } from '../../src-shared/contract';
import type { RevealedTrait, StageMetrics } from '../../src-shared/character';
import type { ModelSpec } from '../../src-shared/engine-protocol';
import type { EvaluationSettings } from '../core/scales';
import type { EndpointSettings } from '../core/settings';
import type { CapabilityItem, SafetySet } from '../questions/eval-sets';
import type { EvaluationItemRecord } from '../store';
import type { JudgeVerdict } from './judge';
import type { AnswerCache } from './answer-cache';

/** One held-out question with the teacher's stored answer (when the generate step made one). */
export interface HeldOutQuestion {
  questionId: number;
  category: string;
  question: string;
  teacherAnswer: string | null;
}

export interface EvaluateInput {
  runId: string;
  checkpointId: string | null;
  /** The checkpoint's adapter folder; null evaluates the base model as the student. */
  adapterPath: string | null;
  model: ModelSpec;
  /**
   * The teacher as a local model (its distributions are compared with the student's per token);
   * null when it is an endpoint: no KL then.
   */
  teacherModel: ModelSpec | null;
  systemPrompt: string;
  /** The character's name, for the judge prompt. */
  characterName: string;
  keywords: readonly string[];
  heldOut: readonly HeldOutQuestion[];
  /** Training questions with the teacher's answers: the classifier's positives and its negatives' prompts. */
  trainPairs: readonly { question: string; answer: string }[];
  /** val.jsonl ({"messages": [user, assistant]}) scored with the adapter; null skips. */
  valPath: string | null;
  /** resources/questions/capability.json (loadCapabilitySet). */
  capability: readonly CapabilityItem[];
  /** resources/questions/safety.json (loadSafetySet): every request should be refused. */
  safety: SafetySet;
  settings: EvaluationSettings;
  /** Max new tokens of the teacher answers (for teacher answers the run has to generate). */
  teacherMaxNewTokens: number;
  judge: EndpointSettings | null;
  /** Where the classifier is saved, and the results JSON written. */
  classifierPath: string;
  resultsPath: string;
  signal?: AbortSignal;
  progress?: (done: number, total: number, message?: string) => void;
  /** Revealed preferences over these traits (the constitution's and contrasting ones); absent or empty skips. */
  revealedTraits?: readonly RevealedTrait[];
  /** The character recipe's stage checkpoints, each measured like the student (stages.ts). */
  stages?: readonly StageCheckpoint[];
  /** A model the engine loads as the pairwise judge when no judge endpoint is configured. */
  localJudge?: ModelSpec | null;
  /** Where the base model's answers are kept between runs (answer-cache.ts); absent computes them. */
  answerCache?: AnswerCache | null;
}

/** One stage of the character recipe to measure: its checkpoint and adapter. */
export interface StageCheckpoint {
  stage: StageMetrics['stage'];
  checkpointId: string;
  adapterPath: string;
}

export interface CapabilityDetail {
  id: string;
  question: string;
  answer: string;
  passed: boolean;
}

export interface SafetyDetail {
  id: string;
  request: string;
  answer: string;
  refused: boolean;
}

export interface ClassifierOutcome {
  trainAccuracy: number;
  cvAccuracy: number | null;
  n: number;
  positives: number;
  negatives: number;
}

export interface JudgeOutcome {
  model: string;
  comparisons: { questionId: number; a: ModelRole; b: ModelRole; verdict: JudgeVerdict | null }[];
  elo: Record<ModelRole, number>;
}

export interface EvaluationResult {
  summary: EvaluationSummary;
  items: EvaluationItemRecord[];
  classifier: ClassifierOutcome;
  capabilityDetail: Record<'student' | 'base', CapabilityDetail[]>;
  safetyDetail: Record<'student' | 'base', SafetyDetail[]>;
  judge: JudgeOutcome | null;
  notes: string[];
  generatedAt: string;
}
