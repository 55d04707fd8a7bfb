/** Seeded train/val split, stratified by category, over kept (audit-passed) examples only. */
import { mulberry32, shuffled } from '../questions/prng';
import type { Store } from '../store';

export interface SplitOptions {
  seed: number;
  /** Share of examples for validation (default 0.1), unless valSize is given. */
  valFraction?: number;
  /** Exact number of validation examples (clamped to what exists). */
  valSize?: number;
}

export interface SplitAssignment {
  exampleId: number;
  split: 'train' | 'val';
}

/**
 * Each category gets its share of the validation set by largest remainder, so the total is
 * exact and every category is represented in proportion; which examples go is a seeded shuffle.
 */
export function splitExamples(
  examples: readonly { id: number; category: string }[],
  opts: SplitOptions,
): SplitAssignment[] {
  const rand = mulberry32(opts.seed);
  const n = examples.length;
  const valTotal = Math.max(0, Math.min(n, opts.valSize ?? Math.round(n * (opts.valFraction ?? 0.1))));
  const byCat = new Map<string, number[]>();
  for (const e of examples) byCat.set(e.category, [...(byCat.get(e.category) ?? []), e.id]);
  const cats = [...byCat.keys()].sort();
  const quotas = cats.map((c) => {
    const exact = n ? ((byCat.get(c) as number[]).length * valTotal) / n : 0;
    return { c, base: Math.floor(exact), rem: exact - Math.floor(exact) };
  });
  let left = valTotal - quotas.reduce((a, q) => a + q.base, 0);
  for (const q of [...quotas].sort((a, b) => b.rem - a.rem || a.c.localeCompare(b.c))) {
    if (left <= 0) break;
    q.base++;
    left--;
  }
  const val = new Set<number>();
  for (const q of quotas) {
    for (const id of shuffled(byCat.get(q.c) as number[], rand).slice(0, q.base)) val.add(id);
  }
  return examples.map((e) => ({ exampleId: e.id, split: val.has(e.id) ? 'val' : 'train' }));
}

/** Splits a run's kept, non-held-out examples and saves the assignment. */
export function splitRun(store: Store, runId: string, opts: SplitOptions): { train: number; val: number } {
  const heldout = new Set(store.questions.listByRun(runId, { heldout: true }).map((q) => q.id));
  const kept = store.examples.listByRun(runId, { keptOnly: true }).filter((r) => !heldout.has(r.questionId));
  const assignments = splitExamples(kept, opts);
  store.splits.save(runId, assignments);
  return store.splits.counts(runId);
}
