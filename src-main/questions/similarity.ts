/**
 * Text normalisation and near-duplicate detection, shared by question generation and the
 * dataset audit.
 *
 * Two texts are near duplicates when the Jaccard similarity of their word 3-shingle sets is at
 * least NEAR_DUPLICATE_THRESHOLD (0.8). Texts shorter than three words use their word set.
 * 0.8 catches the same question with a greeting or one word added or swapped ("Maestro, what do
 * you think of the internet?" vs "What do you think of the internet?" scores 5/6 = 0.83), while
 * two questions that differ in their subject ("... of smartphones?") score 0.5 and both stay.
 */
export const NEAR_DUPLICATE_THRESHOLD = 0.8;

/** Lowercase, letters and digits only, single spaces. */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** Word n-shingles of the normalised text (the word set when shorter than n words). */
export function shingles(text: string, n = 3): Set<string> {
  const words = normalizeText(text)
    .split(' ')
    .filter((w) => w !== '');
  if (words.length < n) return new Set(words);
  const out = new Set<string>();
  for (let i = 0; i + n <= words.length; i++) out.add(words.slice(i, i + n).join(' '));
  return out;
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const x of small) if (large.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

export type DuplicateKind = 'exact' | 'near';

/**
 * An incremental index: add texts one by one and learn whether each duplicates an earlier one.
 * An inverted index from shingle to entries keeps the check well below all-pairs cost.
 */
export class DuplicateIndex {
  private readonly exact = new Map<string, number>();
  private readonly sets: Set<string>[] = [];
  private readonly postings = new Map<string, number[]>();

  /**
   * @param maxPostings a shingle already seen in more entries than this ("i have always") is too
   *   common to find candidates by; near duplicates share >= 80% of their shingles, so their rarer
   *   shared shingles still find them, and the check stays near-linear on large, repetitive sets.
   */
  constructor(
    readonly threshold: number = NEAR_DUPLICATE_THRESHOLD,
    readonly maxPostings = 256,
  ) {}

  /** The earlier entry this text duplicates, without adding it. */
  check(text: string): { kind: DuplicateKind; of: number; similarity: number } | null {
    return this.checkPrepared(normalizeText(text), shingles(text));
  }

  /** Adds the text unless it duplicates an earlier entry; returns that duplicate, or null when added. */
  addIfNew(text: string): { kind: DuplicateKind; of: number; similarity: number } | null {
    const norm = normalizeText(text);
    const sh = shingles(text);
    const dup = this.checkPrepared(norm, sh);
    if (!dup) this.addPrepared(norm, sh);
    return dup;
  }

  private checkPrepared(
    norm: string,
    sh: Set<string>,
  ): { kind: DuplicateKind; of: number; similarity: number } | null {
    const ex = this.exact.get(norm);
    if (ex !== undefined) return { kind: 'exact', of: ex, similarity: 1 };
    if (sh.size === 0) return null;
    const shared = new Map<number, number>();
    let skipped = 0;
    for (const s of sh) {
      const list = this.postings.get(s);
      if (!list) continue;
      if (list.length > this.maxPostings) {
        skipped++;
        continue;
      }
      for (const id of list) shared.set(id, (shared.get(id) ?? 0) + 1);
    }
    // Jaccard >= t needs an intersection of at least t * |sh|; the counted shingles plus every
    // skipped common one bound the intersection from above, so weaker candidates cannot qualify.
    const need = this.threshold * sh.size - 1e-9;
    let best: { kind: DuplicateKind; of: number; similarity: number } | null = null;
    for (const [id, count] of shared) {
      if (count + skipped < need) continue;
      const other = this.sets[id] as Set<string>;
      const sim = jaccard(sh, other);
      if (sim >= this.threshold && (!best || sim > best.similarity))
        best = { kind: 'near', of: id, similarity: sim };
    }
    return best;
  }

  /** Adds the text; returns its entry number. */
  add(text: string): number {
    return this.addPrepared(normalizeText(text), shingles(text));
  }

  private addPrepared(norm: string, sh: Set<string>): number {
    const id = this.sets.length;
    if (!this.exact.has(norm)) this.exact.set(norm, id);
    this.sets.push(sh);
    for (const s of sh) {
      const list = this.postings.get(s);
      if (list) list.push(id);
      else this.postings.set(s, [id]);
    }
    return id;
  }

  get size(): number {
    return this.sets.length;
  }
}
