/**
 * A faithful port of Python's difflib.SequenceMatcher (CPython 3.11 Lib/difflib.py) for the
 * parts evaluation needs: find_longest_match, get_matching_blocks and ratio, with `autojunk`
 * (on by default, as in Python) and no isjunk function.
 *
 * Strings are compared by Unicode code point, as Python compares str, not by UTF-16 unit:
 * "😀" is one element here as it is in Python. Arrays of strings (e.g. words) work too.
 * The numbers match python3's `difflib.SequenceMatcher(None, a, b).ratio()` exactly; see
 * test/unit/evaluation/difflib.test.ts for values computed with Python.
 */

/** A matching block: a[a .. a+size] == b[b .. b+size]. */
export interface MatchBlock {
  a: number;
  b: number;
  size: number;
}

/** Python's autojunk heuristic applies to sequences b at least this long. */
const AUTOJUNK_MIN_LENGTH = 200;

function toElements(s: string | readonly string[]): readonly string[] {
  return typeof s === 'string' ? Array.from(s) : s;
}

export class SequenceMatcher {
  private readonly a: readonly string[];
  private readonly b: readonly string[];
  /** b2j[elt] = increasing indices of elt in b, minus "popular" elements (autojunk). */
  private readonly b2j = new Map<string, number[]>();
  private matchingBlocks: MatchBlock[] | null = null;

  constructor(a: string | readonly string[], b: string | readonly string[], autojunk = true) {
    this.a = toElements(a);
    this.b = toElements(b);
    this.chainB(autojunk);
  }

  private chainB(autojunk: boolean): void {
    const b = this.b;
    for (let i = 0; i < b.length; i++) {
      const elt = b[i] as string;
      const indices = this.b2j.get(elt);
      if (indices) indices.push(i);
      else this.b2j.set(elt, [i]);
    }
    // Purge popular elements (more than 1% + 1 of b) from the index. Python does not add
    // them to bjunk, so they still extend matches in findLongestMatch.
    const n = b.length;
    if (autojunk && n >= AUTOJUNK_MIN_LENGTH) {
      const ntest = Math.floor(n / 100) + 1;
      for (const [elt, idxs] of [...this.b2j]) {
        if (idxs.length > ntest) this.b2j.delete(elt);
      }
    }
  }

  /** Longest matching block in a[alo:ahi] and b[blo:bhi]; ties go to the earliest in a, then b. */
  findLongestMatch(alo = 0, ahi = this.a.length, blo = 0, bhi = this.b.length): MatchBlock {
    const { a, b, b2j } = this;
    let besti = alo;
    let bestj = blo;
    let bestsize = 0;
    // j2len[j] = length of the longest match ending with a[i-1] and b[j]
    let j2len = new Map<number, number>();
    const nothing: number[] = [];
    for (let i = alo; i < ahi; i++) {
      const newj2len = new Map<number, number>();
      for (const j of b2j.get(a[i] as string) ?? nothing) {
        if (j < blo) continue;
        if (j >= bhi) break;
        const k = (j2len.get(j - 1) ?? 0) + 1;
        newj2len.set(j, k);
        if (k > bestsize) {
          besti = i - k + 1;
          bestj = j - k + 1;
          bestsize = k;
        }
      }
      j2len = newj2len;
    }
    // Extend with equal non-junk elements on both ends (popular elements are not junk). With
    // no isjunk function bjunk is empty, so Python's second pair of junk loops never runs.
    while (besti > alo && bestj > blo && a[besti - 1] === b[bestj - 1]) {
      besti -= 1;
      bestj -= 1;
      bestsize += 1;
    }
    while (besti + bestsize < ahi && bestj + bestsize < bhi && a[besti + bestsize] === b[bestj + bestsize]) {
      bestsize += 1;
    }
    return { a: besti, b: bestj, size: bestsize };
  }

  /** Matching blocks sorted by position, adjacent ones collapsed, ending with the {la, lb, 0} sentinel. */
  getMatchingBlocks(): MatchBlock[] {
    if (this.matchingBlocks) return this.matchingBlocks;
    const la = this.a.length;
    const lb = this.b.length;
    const queue: [number, number, number, number][] = [[0, la, 0, lb]];
    const blocks: MatchBlock[] = [];
    while (queue.length > 0) {
      const [alo, ahi, blo, bhi] = queue.pop() as [number, number, number, number];
      const x = this.findLongestMatch(alo, ahi, blo, bhi);
      const { a: i, b: j, size: k } = x;
      if (k) {
        blocks.push(x);
        if (alo < i && blo < j) queue.push([alo, i, blo, j]);
        if (i + k < ahi && j + k < bhi) queue.push([i + k, ahi, j + k, bhi]);
      }
    }
    blocks.sort((p, q) => p.a - q.a || p.b - q.b || p.size - q.size);
    const collapsed: MatchBlock[] = [];
    let i1 = 0;
    let j1 = 0;
    let k1 = 0;
    for (const { a: i2, b: j2, size: k2 } of blocks) {
      if (i1 + k1 === i2 && j1 + k1 === j2) {
        k1 += k2;
      } else {
        if (k1) collapsed.push({ a: i1, b: j1, size: k1 });
        i1 = i2;
        j1 = j2;
        k1 = k2;
      }
    }
    if (k1) collapsed.push({ a: i1, b: j1, size: k1 });
    collapsed.push({ a: la, b: lb, size: 0 });
    this.matchingBlocks = collapsed;
    return collapsed;
  }

  /** 2.0 * matches / (len(a) + len(b)); 1.0 when both are empty. */
  ratio(): number {
    const matches = this.getMatchingBlocks().reduce((sum, m) => sum + m.size, 0);
    const total = this.a.length + this.b.length;
    return total ? (2.0 * matches) / total : 1.0;
  }
}

/** `difflib.SequenceMatcher(None, a, b).ratio()` (autojunk on, as Python's default). */
export function difflibRatio(
  a: string | readonly string[],
  b: string | readonly string[],
  autojunk = true,
): number {
  return new SequenceMatcher(a, b, autojunk).ratio();
}
