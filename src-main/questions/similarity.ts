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

/**
 * A character of a script written without spaces between words (Chinese, Japanese): each one is
 * taken as a word, so shingles of such text are character 3-grams.
 */
export const SPACELESS_SCRIPT_CHAR = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/gu;

/** Whether a string starts with such a character. */
export function startsSpaceless(text: string): boolean {
  return /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u.test(text);
}

/** Whitespace-separated words; a Han or kana character counts as one word (no spaces there). */
export function textWords(text: string): string[] {
  const t = text.replace(SPACELESS_SCRIPT_CHAR, ' $& ').trim();
  return t === '' ? [] : t.split(/\s+/);
}

/**
 * Lowercase, letters (of any script), marks and digits only, single spaces. Latin diacritics
 * fold ("café" = "cafe"); marks that are part of a letter elsewhere stay (が is not か, and
 * Devanagari vowel signs stay in their word). Han and kana characters are spaced apart.
 */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .normalize('NFC')
    .toLowerCase()
    .replace(SPACELESS_SCRIPT_CHAR, ' $& ')
    .replace(/[^\p{L}\p{M}\p{N}]+/gu, ' ')
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

  /** A well-mixed 32-bit hash of the triple (murmur3 finaliser), masked to the table. */
  private slotOf(a: number, b: number, c: number): number {
    let h =
      Math.imul(a, 0x9e3779b1) ^
      Math.imul(b + 0x7f4a7c15, 0x85ebca6b) ^
      Math.imul(c + 0x165667b1, 0xc2b2ae35);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h & this.mask;
  }

  intern(a: number, b: number, c: number): number {
    if (2 * (this.size + 1) > this.mask + 1) this.grow();
    const slots = this.slots;
    let h = this.slotOf(a, b, c);
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
    const slots = new Int32Array(old.length * 2);
    this.slots = slots;
    this.mask = old.length / 2 - 1;
    for (let at = 0; at < old.length; at += 4) {
      const id = old[at + 3] as number;
      if (id === 0) continue;
      // Re-insert keeping the id.
      const a = old[at] as number;
      const b = old[at + 1] as number;
      const c = old[at + 2] as number;
      let h = this.slotOf(a, b, c);
      while (slots[4 * h + 3] !== 0) h = (h + 1) & this.mask;
      const to = 4 * h;
      slots[to] = a;
      slots[to + 1] = b;
      slots[to + 2] = c;
      slots[to + 3] = id;
    }
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
 * `shingles` uses the word set). Prefix filtering keeps the work per text independent of the
 * number of entries: Jaccard >= t needs an overlap of at least ceil(t * n) shingles of both texts,
 * so under one fixed order of shingle ids (highest first: ids are handed out in order of first
 * appearance, so the highest are the rarest) two such texts must share one of their first
 * n - ceil(t * n) + 1 shingles. Only that prefix is indexed and probed; the candidates it finds
 * (of a compatible size) get an exact Jaccard check. The result is identical to comparing against
 * every earlier entry (test/unit/questions/similarity-index.test.ts checks this against brute force).
 */
export class DuplicateIndex {
  private readonly exact = new Map<string, number>();
  private readonly keys: Int32Array[] = [];
  /** Entries whose prefix holds the shingle, by shingle id; null while none. */
  private readonly postings: (number[] | null)[] = [];
  private readonly wordIds = new Map<string, number>();
  private readonly triples = new TripleTable();
  /** Per entry, the check that last saw it as a candidate (so each is verified once). */
  private seen = new Int32Array(1024);
  private epoch = 0;

  /** @param threshold Jaccard similarity (0 < t <= 1) from which a text is a near duplicate. */
  constructor(readonly threshold: number = NEAR_DUPLICATE_THRESHOLD) {
    if (!(threshold > 0 && threshold <= 1))
      throw new RangeError(`threshold must be in (0, 1], got ${threshold}`);
  }

  /** How many of a text's highest shingle ids go into (and are probed in) the index. */
  private prefixLength(n: number): number {
    // The tolerance only ever lengthens the prefix, so rounding cannot lose a pair.
    return n - Math.ceil(this.threshold * n - 1e-9) + 1;
  }

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
    const n = keys.length;
    if (n === 0) return null;
    if (this.seen.length < this.keys.length) {
      const grown = new Int32Array(Math.max(this.keys.length, this.seen.length * 2));
      grown.set(this.seen);
      this.seen = grown;
    }
    const seen = this.seen;
    const epoch = ++this.epoch;
    // Size filter: Jaccard >= t needs t * n <= m <= n / t.
    const minSize = this.threshold * n - 1e-9;
    const maxSize = n / this.threshold + 1e-9;
    let best: DuplicateMatch | null = null;
    for (let i = n - 1, stop = n - this.prefixLength(n); i >= stop; i--) {
      const list = this.postings[keys[i] as number];
      if (!list) continue;
      for (let j = 0; j < list.length; j++) {
        const id = list[j] as number;
        if (seen[id] === epoch) continue;
        seen[id] = epoch;
        const other = this.keys[id] as Int32Array;
        if (other.length < minSize || other.length > maxSize) continue;
        const sim = sortedJaccard(keys, other);
        if (
          sim >= this.threshold &&
          (!best || sim > best.similarity || (sim === best.similarity && id < best.of))
        )
          best = { kind: 'near', of: id, similarity: sim };
      }
    }
    return best;
  }

  private addPrepared(norm: string, keys: Int32Array): number {
    const id = this.keys.length;
    if (!this.exact.has(norm)) this.exact.set(norm, id);
    this.keys.push(keys);
    const n = keys.length;
    for (let i = n - 1, stop = n - this.prefixLength(n); i >= stop; i--) {
      const k = keys[i] as number;
      const list = this.postings[k];
      if (list) list.push(id);
      else this.postings[k] = [id];
    }
    return id;
  }
}
