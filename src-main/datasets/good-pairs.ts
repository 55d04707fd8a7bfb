/**
 * The third recipe's data (mini distillation): "good pairs" {prompt, answer} collected from
 * evaluation logs when their score clears a bar, approved by a person, then written as
 * distill_dataset.jsonl in chat format. The dataset grows over time; identical pairs are stored once.
 */
import type { ModelRole } from '../../src-shared/contract';
import type { GoodPair, Store } from '../store';
import { toChatRow } from './files';
import { writeJsonl } from './jsonl';

export const GOOD_PAIR_MIN_SCORE = 0.7;

/**
 * Adds the latest evaluation's answers of `role` whose in-character score is >= minScore as
 * unapproved good pairs (source "eval:<evaluation id>"). Returns how many were new.
 */
export function collectGoodPairs(
  store: Store,
  runId: string,
  opts: { minScore?: number; role?: ModelRole } = {},
): { added: number; considered: number } {
  const evaluation = store.evaluations.latest(runId);
  if (!evaluation) return { added: 0, considered: 0 };
  const role = opts.role ?? 'teacher';
  const min = opts.minScore ?? GOOD_PAIR_MIN_SCORE;
  const rows = evaluation.items
    .filter((it) => (it.inCharacter?.[role] ?? 0) >= min && (it.answers[role] ?? '').trim() !== '')
    .map((it) => ({
      prompt: it.question,
      answer: it.answers[role],
      score: it.inCharacter[role],
      source: `eval:${evaluation.id}`,
    }));
  return { added: store.goodPairs.add(rows), considered: evaluation.items.length };
}

/** Writes approved pairs scoring >= minScore as chat rows; returns the pairs written. */
export function writeDistillDataset(
  store: Store,
  path: string,
  opts: { minScore?: number } = {},
): GoodPair[] {
  const pairs = store.goodPairs.list({ approved: true, minScore: opts.minScore ?? GOOD_PAIR_MIN_SCORE });
  writeJsonl(
    path,
    pairs.map((p) => toChatRow(p.prompt, p.answer)),
  );
  return pairs;
}
