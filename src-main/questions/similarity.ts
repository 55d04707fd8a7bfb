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

export interface DuplicateMatch {
  kind: DuplicateKind;
  /** Entry number of the earlier text (the most similar one; the lowest number on a tie). */
  of: number;
  similarity: number;
}

/**
 * Interns word-id triples to dense shingle ids: an open-addressing hash table on typed arrays, so
 * indexing allocates no per-shingle strings or boxed numbers.
 */
class TripleTable {
  private slots = new Int32Array(4 * 1024); // a, b, c, id+1 (0 = empty)
  private mask = 1023;
  size = 0;

  intern(a: number, b: number, c: number): number {
    if (2 * (this.size + 1) > this.mask + 1) this.grow();
    const slots = this.slots;
    let h =
      (Math.imul(a, 0x9e3779b1) ^
        Math.imul(b + 0x7f4a7c15, 0x85ebca6b) ^
        Math.imul(c + 0x165667b1, 0xc2b2ae35)) >>>
      0;
    h = (h ^ (h >>> 15)) & this.mask;
    for (;;) {
      const at = 4 * h;
      const id = slots[at + 3] as number;
      if (id === 0) {
        slots[at] = a;
        slots[at + 1] = b;
        slots[at + 2] = c;
        slots[at + 3] = ++this.size;
        return this.size - 1;
      }
      if (slots[at] === a && slots[at + 1] === b && slots[at + 2] === c) return id - 1;
      h = (h + 1) & this.mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    this.mask = old.length / 2 - 1;
    const size = this.size;
    for (let at = 0; at < old.length; at += 4) {
      const id = old[at + 3] as number;
      if (id === 0) continue;
      // Re-insert keeping the id.
      const a = old[at] as number;
      const b = old[at + 1] as number;
      const c = old[at + 2] as number;
      let h =
        (Math.imul(a, 0x9e3779b1) ^
          Math.imul(b + 0x7f4a7c15, 0x85ebca6b) ^
          Math.imul(c + 0x165667b1, 0xc2b2ae35)) >>>
        0;
      h = (h ^ (h >>> 15)) & this.mask;
      while (this.slots[4 * h + 3] !== 0) h = (h + 1) & this.mask;
      this.slots.set([a, b, c, id], 4 * h);
    }
    this.size = size;
  }
}

/** Jaccard similarity of two sorted, duplicate-free id arrays. */
function sortedJaccard(a: Int32Array, b: Int32Array): number {
  if (a.length === 0 && b.length === 0) return 1;
  let i = 0;
  let j = 0;
  let inter = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) {
      inter++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return inter / (a.length + b.length - inter);
}

/**
 * An incremental index: add texts one by one and learn whether each duplicates an earlier one.
 *
 * Each text becomes a sorted array of shingle ids (words are interned to integers, word triples
 * to dense shingle ids; a text shorter than three words uses its words as (w, -1, -1), as
 * `shingles` uses the word set). An inverted index from shingle id to entries counts, per
 * candidate, the shingles it shares with the new text; only candidates that can still reach the
 * threshold get an exact Jaccard check. The result is identical to comparing against every earlier
 * entry (test/unit/questions/similarity-index.test.ts checks this against brute force).
 */
export class DuplicateIndex {
  private readonly exact = new Map<string, number>();
  private readonly keys: Int32Array[] = [];
  /** Entries by shingle id; null until an entry with that shingle is added. */
  private readonly postings: (number[] | null)[] = [];
  private readonly wordIds = new Map<string, number>();
  private readonly triples = new TripleTable();
  private counts = new Int32Array(1024);

  /**
   * @param maxPostings a shingle already seen in more entries than this ("i have always") is too
   *   common to find candidates by; near duplicates share >= 80% of their shingles, so their rarer
   *   shared shingles still find them. When a text has so many common shingles that a candidate
   *   could qualify through them alone, those lists are counted too, so the result stays exact.
   */
  constructor(
    readonly threshold: number = NEAR_DUPLICATE_THRESHOLD,
    readonly maxPostings = 256,
  ) {}

  /** The earlier entry this text duplicates, without adding it. */
  check(text: string): DuplicateMatch | null {
    const norm = normalizeText(text);
    return this.checkPrepared(norm, this.keysOf(norm));
  }

  /** Adds the text unless it duplicates an earlier entry; returns that duplicate, or null when added. */
  addIfNew(text: string): DuplicateMatch | null {
    const norm = normalizeText(text);
    const keys = this.keysOf(norm);
    const dup = this.checkPrepared(norm, keys);
    if (!dup) this.addPrepared(norm, keys);
    return dup;
  }

  /** Adds the text; returns its entry number. */
  add(text: string): number {
    const norm = normalizeText(text);
    return this.addPrepared(norm, this.keysOf(norm));
  }

  get size(): number {
    return this.keys.length;
  }

  /** Sorted, duplicate-free shingle ids of a normalised text (the same sets as `shingles`). */
  private keysOf(norm: string): Int32Array {
    const ws = norm === '' ? [] : norm.split(' ');
    const ids = new Int32Array(ws.length);
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i] as string;
      let id = this.wordIds.get(w);
      if (id === undefined) {
        id = this.wordIds.size;
        this.wordIds.set(w, id);
      }
      ids[i] = id;
    }
    let out: Int32Array;
    if (ids.length < 3) out = ids.map((id) => this.triples.intern(id, -1, -1));
    else {
      out = new Int32Array(ids.length - 2);
      for (let i = 0; i + 3 <= ids.length; i++)
        out[i] = this.triples.intern(ids[i] as number, ids[i + 1] as number, ids[i + 2] as number);
    }
    while (this.postings.length < this.triples.size) this.postings.push(null);
    out.sort();
    let n = 0;
    for (let i = 0; i < out.length; i++) if (n === 0 || out[i] !== out[n - 1]) out[n++] = out[i] as number;
    return out.subarray(0, n);
  }

  private checkPrepared(norm: string, keys: Int32Array): DuplicateMatch | null {
    const ex = this.exact.get(norm);
    if (ex !== undefined) return { kind: 'exact', of: ex, similarity: 1 };
    if (keys.length === 0) return null;
    if (this.counts.length < this.keys.length) {
      const grown = new Int32Array(Math.max(this.keys.length, this.counts.length * 2));
      grown.set(this.counts);
      this.counts = grown;
    }
    const counts = this.counts;
    const touched: number[] = [];
    const common: number[][] = [];
    const count = (list: readonly number[]): void => {
      for (let i = 0; i < list.length; i++) {
        const id = list[i] as number;
        const c = counts[id] as number;
        counts[id] = c + 1;
        if (c === 0) touched.push(id);
      }
    };
    for (let i = 0; i < keys.length; i++) {
      const list = this.postings[keys[i] as number];
      if (!list) continue;
      if (list.length > this.maxPostings) common.push(list);
      else count(list);
    }
    // Jaccard >= t needs an intersection of at least t * |keys|. The counted shingles plus every
    // skipped common one bound a candidate's intersection from above, so weaker candidates cannot
    // qualify; when the common ones alone could reach the bound, count them too (exactness).
    const need = this.threshold * keys.length - 1e-9;
    let skipped = common.length;
    if (skipped > 0 && skipped >= need) {
      for (const list of common) count(list);
      skipped = 0;
    }
    let best: DuplicateMatch | null = null;
    for (const id of touched) {
      const shared = counts[id] as number;
      counts[id] = 0;
      if (shared + skipped < need) continue;
      const sim = sortedJaccard(keys, this.keys[id] as Int32Array);
      if (
        sim >= this.threshold &&
        (!best || sim > best.similarity || (sim === best.similarity && id < best.of))
      )
        best = { kind: 'near', of: id, similarity: sim };
    }
    return best;
  }

  private addPrepared(norm: string, keys: Int32Array): number {
    const id = this.keys.length;
    if (!this.exact.has(norm)) this.exact.set(norm, id);
    this.keys.push(keys);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as number;
      const list = this.postings[k];
      if (list) list.push(id);
      else this.postings[k] = [id];
    }
    return id;
  }
}
