/**
 * What each loss a run shows is, named the same way everywhere it is shown (the Training and
 * Evaluation pages, the checkpoint metrics, RESULTS_REPORT.md, runs.csv, the CLI and the run log).
 *
 * A training job's `loss` is its objective's own (engine training/{kd,sft,dpo,on_policy}.py):
 * a kd run's 0.04 and an sft run's 1.5 are different quantities, and neither is the evaluation's
 * NLL, which scores the validation answers as text with an end token after every one (also after
 * an answer the teacher's length limit cut off, where the teacher never ended), so it reads
 * higher than the training loop's validation NLL on the same answers.
 */
import type { TrainingObjective } from './contract';

/** The quantity a training job's `loss` is. */
export type LossKind = 'kd' | 'nll' | 'dpo' | 'reverse_kl';

export interface LossName {
  /** For a label beside a number: "kd loss". */
  short: string;
  /** What it measures, with its unit. */
  long: string;
  /** The part of a metric key or CSV column that names it: trainKdLoss, valNll. */
  key: string;
}

export const LOSS_NAMES: Readonly<Record<LossKind, LossName>> = {
  kd: {
    short: 'kd loss',
    long: 'kd loss: KL(teacher ‖ student) over the teacher’s top-k tokens plus the rest, nats per answer token',
    key: 'KdLoss',
  },
  nll: {
    short: 'NLL',
    long: 'NLL: negative log-likelihood of the teacher’s answer tokens under the student, nats per token',
    key: 'Nll',
  },
  dpo: {
    short: 'DPO loss',
    long: 'DPO loss: the sigmoid preference loss of chosen over rejected against the reference (plus its NLL and kd terms where set), per pair',
    key: 'DpoLoss',
  },
  reverse_kl: {
    short: 'reverse KL',
    long: 'reverse KL: KL(student ‖ teacher) on the student’s own sampled answers, nats per sampled token',
    key: 'ReverseKl',
  },
};

/** The evaluation step's figure (EvaluationSummary.valLoss). */
export const EVALUATION_NLL: LossName = {
  short: 'evaluation NLL',
  long: 'evaluation NLL: the student’s negative log-likelihood of the validation answers as text, with an end token scored after every answer (also one cut off at the length limit), nats per token',
  key: 'EvalNll',
};

/**
 * The loss a job of this objective reports: on-policy trains on the reverse KL and validates
 * with the kd loss on the teacher's answers; the character recipe's DPO stage reports DPO's.
 */
export function lossKindOf(
  objective: TrainingObjective | 'dpo',
  point: 'train' | 'eval' = 'train',
): LossKind {
  switch (objective) {
    case 'kd':
      return 'kd';
    case 'sft':
      return 'nll';
    case 'dpo':
      return 'dpo';
    case 'on-policy':
      return point === 'eval' ? 'kd' : 'reverse_kl';
  }
}
