/**
 * Seeded question generation: templates filled from the persona's vocabulary, balanced over
 * categories (round-robin), with exact and near duplicates removed (see similarity.ts for the
 * threshold) and a seeded, category-stratified held-out set that never reaches training.
 */
import type { QuestionRecord } from '../store';
import { mulberry32, shuffled } from './prng';
import { DuplicateIndex } from './similarity';
import { fillTemplate, loadTemplates, loadVocabulary, type TemplateSet, type Vocabulary } from './templates';

/** A question of a run: same shape as the store's record. */
export type Question = QuestionRecord;

export interface GenerateQuestionsOptions {
  /** Persona id: picks resources/questions/vocab/<id>.json, else the generic vocabulary. */
  persona: string;
  /** Training questions wanted. */
  count: number;
  seed: number;
  /** Held-out questions wanted in addition to `count` (evaluation only). */
  heldoutCount?: number;
  /** Restrict to these categories (default: all in the template set). */
  categories?: string[];
  templates?: TemplateSet;
  vocabulary?: Vocabulary;
  /** Questions never to produce (e.g. the held-out robustness prompts); another is drawn instead. */
  skip?: (text: string) => boolean;
}

export interface QuestionStats {
  requested: number;
  produced: number;
  heldout: number;
  byCategory: Record<string, number>;
  /** Candidate fillings skipped as exact or near duplicates of an earlier pick. */
  skippedExact: number;
  skippedNear: number;
  /** Requested minus produced: the templates and vocabulary ran out of distinct questions. */
  shortfall: number;
}

export function generateQuestionSet(opts: GenerateQuestionsOptions): {
  questions: Question[];
  stats: QuestionStats;
} {
  const rand = mulberry32(opts.seed);
  const set = opts.templates ?? loadTemplates();
  const vocab = opts.vocabulary ?? loadVocabulary(opts.persona);
  const heldoutCount = Math.max(0, opts.heldoutCount ?? 0);
  const total = Math.max(0, opts.count) + heldoutCount;
  const categories = (opts.categories ?? set.categories).filter((c) =>
    set.templates.some((t) => t.category === c),
  );

  // Per category: a rotating list of per-template queues, each a seeded shuffle of its fillings,
  // so one prolific template cannot crowd out the others.
  interface Queue {
    template: string;
    items: string[];
    next: number;
  }
  const perCategory = new Map<string, { queues: Queue[]; turn: number }>();
  for (const cat of categories) {
    const queues = shuffled(
      set.templates.filter((t) => t.category === cat),
      rand,
    )
      .map((t) => ({ template: t.id, items: shuffled(fillTemplate(t, vocab), rand), next: 0 }))
      .filter((q) => q.items.length > 0);
    if (queues.length > 0) perCategory.set(cat, { queues, turn: 0 });
  }

  const index = new DuplicateIndex();
  const picked: { category: string; text: string; template: string }[] = [];
  let skippedExact = 0;
  let skippedNear = 0;

  /** Next acceptable question of a category, or null when it has run dry. */
  const nextOf = (cat: string): { text: string; template: string } | null => {
    const state = perCategory.get(cat);
    while (state && state.queues.length > 0) {
      const qi = state.turn % state.queues.length;
      const q = state.queues[qi] as Queue;
      if (q.next >= q.items.length) {
        state.queues.splice(qi, 1);
        continue;
      }
      const text = q.items[q.next++] as string;
      state.turn++;
      if (opts.skip?.(text)) continue;
      const dup = index.addIfNew(text);
      if (dup) {
        if (dup.kind === 'exact') skippedExact++;
        else skippedNear++;
        continue;
      }
      return { text, template: q.template };
    }
    return null;
  };

  let active = categories.filter((c) => perCategory.has(c));
  while (picked.length < total && active.length > 0) {
    const still: string[] = [];
    for (const cat of active) {
      if (picked.length >= total) break;
      const q = nextOf(cat);
      if (q) {
        picked.push({ category: cat, ...q });
        still.push(cat);
      }
    }
    active = still.length > 0 ? still : [];
    if (picked.length >= total) break;
  }

  // Held-out: a seeded shuffle, then round-robin over categories so it is stratified too.
  const heldout = new Set<number>();
  const byCat = new Map<string, number[]>();
  shuffled(
    picked.map((_, i) => i),
    rand,
  ).forEach((i) => {
    const cat = (picked[i] as { category: string }).category;
    byCat.set(cat, [...(byCat.get(cat) ?? []), i]);
  });
  const wantHeld = Math.min(heldoutCount, picked.length);
  const cats = [...byCat.keys()].sort();
  while (heldout.size < wantHeld) {
    let progressed = false;
    for (const c of cats) {
      if (heldout.size >= wantHeld) break;
      const next = byCat.get(c)?.shift();
      if (next !== undefined) {
        heldout.add(next);
        progressed = true;
      }
    }
    if (!progressed) break;
  }

  const questions: Question[] = picked.map((p, i) => ({
    id: i + 1,
    category: p.category,
    text: p.text,
    heldout: heldout.has(i),
    template: p.template,
  }));
  const byCategory: Record<string, number> = {};
  for (const q of questions) byCategory[q.category] = (byCategory[q.category] ?? 0) + 1;
  return {
    questions,
    stats: {
      requested: total,
      produced: questions.length,
      heldout: heldout.size,
      byCategory,
      skippedExact,
      skippedNear,
      shortfall: total - questions.length,
    },
  };
}

/** `count` training questions plus `heldoutCount` held-out ones (flagged `heldout`). */
export function generateQuestions(opts: GenerateQuestionsOptions): Question[] {
  return generateQuestionSet(opts).questions;
}

/**
 * A model-based paraphraser the runner may pass in: returns one rewording per input question
 * (same order). Not required; questions work without it.
 */
export type Paraphraser = (questions: readonly string[]) => Promise<string[]>;

/**
 * Rewords questions with `paraphrase`, keeping the original wherever the rewording is empty or
 * would duplicate (exactly or nearly) a question already in the set.
 */
export async function paraphraseQuestions(
  questions: readonly Question[],
  paraphrase: Paraphraser,
): Promise<Question[]> {
  const rewritten = await paraphrase(questions.map((q) => q.text));
  const index = new DuplicateIndex();
  for (const q of questions) index.add(q.text);
  return questions.map((q, i) => {
    const alt = rewritten[i]?.trim();
    if (!alt || index.check(alt)) return q;
    index.add(alt);
    return { ...q, text: alt };
  });
}
