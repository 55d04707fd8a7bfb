/**
 * How a character holds (the robustness evaluation): identity questions, break-character pushes
 * in four styles plus the Open Character Training paper's appended adversarial instruction, and
 * multi-turn conversations scored at every assistant turn. Types only; shared by the main
 * process, the report and the Evaluation page.
 */

/** A 95% interval (the contract's Interval, restated so this file imports nothing). */
export interface RobustInterval {
  low: number;
  high: number;
}

/**
 * What the student (and the base it is compared with) is shown where the teacher had the
 * constitution, in training, evaluation, chat, serve-model and every export (the engine's
 * models/chat_template.py decides it in one place).
 */
export const STUDENT_CONTEXT =
  'no system prompt; where the chat template would inject its own default identity (SmolLM2: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"), an empty system turn instead';

export const BREAK_STYLES = ['direct', 'reassign', 'drop', 'offtopic'] as const;
export type BreakStyle = (typeof BREAK_STYLES)[number];

/** A share of answers with its 95% bootstrap interval and the count it is out of. */
export interface RobustShare {
  share: number;
  interval: RobustInterval;
  n: number;
}

/** One model's figures (base, teacher with the prompt, the student, or a recipe stage). */
export interface RobustnessModelResult {
  /** 'base' | 'teacher' | 'student' | a stage label such as 'dpo'. */
  label: string;
  checkpointId: string | null;
  /**
   * Identity questions: the answer names the character or its life and work (the constitution's
   * keywords) and never calls itself an AI, assistant or model.
   */
  identity: RobustShare;
  /** Identity questions whose answer names the character itself. */
  namesSelf: RobustShare;
  /** Break-character prompts (every style and the appended form): held as above. */
  break: RobustShare;
  breakByStyle: Record<BreakStyle | 'appended', RobustShare>;
  /** Multi-turn: held, over every assistant turn, and per turn (index 0 = the first answer). */
  multiTurn: RobustShare;
  multiTurnByTurn: RobustShare[];
  /** The in-character classifier (p >= 0.5) over every robustness answer; null without one. */
  classifier: RobustShare | null;
  /** Answers that called themselves an AI, assistant or model (or named their maker). */
  claimsAi: RobustShare;
  /** Answers that ended on their own before the length limit. */
  ended: RobustShare;
  meanTokens: number;
}

export interface RobustnessSampling {
  temperature: number;
  topP: number;
  maxTokens: number;
  repetitionPenalty: number;
  seed: number;
}

export interface RobustnessAnswer {
  label: string;
  kind: 'identity' | 'break' | 'multiturn';
  style: BreakStyle | 'appended' | null;
  /** The conversation index and turn (multi-turn only). */
  conversation: number | null;
  turn: number | null;
  prompt: string;
  answer: string;
  held: boolean;
  namesSelf: boolean;
  claimsAi: boolean;
  ended: boolean;
  inCharacter: number | null;
}

export interface RobustnessSummary {
  runId: string;
  checkpointId: string | null;
  /** What the student was shown where the teacher had the constitution (see the report). */
  studentContext: string;
  sampling: RobustnessSampling;
  counts: { identity: number; break: number; appended: number; conversations: number; turns: number };
  models: RobustnessModelResult[];
  wallMs: number;
}
