/**
 * 95% intervals by the percentile bootstrap over evaluated answers: resample the answers with
 * replacement, recompute the statistic, take the 2.5th and 97.5th percentiles. Seeded, so the
 * same answers give the same interval. Statistics that compare models resample the SAME answers
 * for every model (paired by question).
 *
 * A rate of 0 or 1 gives a zero-width interval: no resample can differ. That says the sample
 * shows no variation, not that the true rate is exactly 0 or 1; the report prints n beside it.
 */
import type { Interval } from '../../src-shared/contract';
import { mulberry32 } from '../questions/prng';

export const BOOTSTRAP_RESAMPLES = 2000;
const SEED = 20261201;

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
  /** Coverage, default 0.95. */
  level?: number;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/**
 * The interval of `statistic` over `n` items: statistic(indices) is called with the original
 * indices once per resample. NaN resamples (an empty denominator) are dropped.
 */
export function bootstrap(
  n: number,
  statistic: (indices: readonly number[]) => number,
  opts: BootstrapOptions = {},
): Interval {
  if (n === 0) return { low: NaN, high: NaN };
  const resamples = opts.resamples ?? BOOTSTRAP_RESAMPLES;
  const level = opts.level ?? 0.95;
  const rand = mulberry32(opts.seed ?? SEED);
  const values: number[] = [];
  const idx = new Array<number>(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rand() * n);
    const v = statistic(idx);
    if (Number.isFinite(v)) values.push(v);
  }
  values.sort((a, b) => a - b);
  return { low: percentile(values, (1 - level) / 2), high: percentile(values, 1 - (1 - level) / 2) };
}

/** The share of true values, with its interval. */
export function shareInterval(flags: readonly boolean[], opts?: BootstrapOptions): Interval {
  return bootstrap(flags.length, (ix) => ix.reduce((a, i) => a + (flags[i] ? 1 : 0), 0) / ix.length, opts);
}

/** Σ num / Σ den over the resampled items (a per-token mean of per-answer sums). */
export function ratioOfSums(num: readonly number[], den: readonly number[], ix: readonly number[]): number {
  let a = 0;
  let b = 0;
  for (const i of ix) {
    a += num[i] as number;
    b += den[i] as number;
  }
  return b > 0 ? a / b : NaN;
}

/** True when two intervals share any point: then neither value may be called better. */
export function overlaps(a: Interval, b: Interval): boolean {
  return a.low <= b.high && b.low <= a.high;
}
