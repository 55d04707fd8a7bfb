import { describe, expect, it } from 'vitest';
import { bootstrap, overlaps, ratioOfSums, shareInterval } from '../../../src-main/evaluation/intervals';
import { mulberry32 } from '../../../src-main/questions/prng';

describe('bootstrap intervals', () => {
  it('cover a known proportion about 95% of the time (seeded simulation)', () => {
    const rand = mulberry32(42);
    const p = 0.3;
    const n = 96;
    const trials = 300;
    let covered = 0;
    for (let t = 0; t < trials; t++) {
      const flags = Array.from({ length: n }, () => rand() < p);
      const ci = shareInterval(flags, { resamples: 500, seed: t + 1 });
      if (ci.low <= p && p <= ci.high) covered += 1;
    }
    // Percentile-bootstrap coverage at n=96 is a little under nominal; 300 trials give ±2.5 points.
    expect(covered / trials).toBeGreaterThan(0.9);
    expect(covered / trials).toBeLessThan(0.99);
  });

  it('is as wide as the binomial standard error says', () => {
    const flags = Array.from({ length: 100 }, (_, i) => i < 50);
    const ci = shareInterval(flags);
    // 1.96 * sqrt(0.25 / 100) = 0.098
    expect(ci.high - ci.low).toBeGreaterThan(0.17);
    expect(ci.high - ci.low).toBeLessThan(0.23);
    expect(ci.low).toBeLessThan(0.5);
    expect(ci.high).toBeGreaterThan(0.5);
  });

  it('is the same for the same data and seed', () => {
    const flags = [true, false, true, true, false, false, true];
    expect(shareInterval(flags)).toEqual(shareInterval(flags));
  });

  it('takes ratios of sums over resampled items (per-token means) and drops empty resamples', () => {
    const num = [1, 2, 3];
    const den = [10, 10, 10];
    expect(ratioOfSums(num, den, [0, 1, 2])).toBeCloseTo(0.2);
    expect(Number.isNaN(ratioOfSums([1], [0], [0]))).toBe(true);
    const ci = bootstrap(3, (ix) => ratioOfSums(num, den, ix));
    expect(ci.low).toBeGreaterThanOrEqual(0.1);
    expect(ci.high).toBeLessThanOrEqual(0.3);
  });

  it('says when two intervals overlap', () => {
    expect(overlaps({ low: 0.1, high: 0.3 }, { low: 0.25, high: 0.5 })).toBe(true);
    expect(overlaps({ low: 0.1, high: 0.2 }, { low: 0.25, high: 0.5 })).toBe(false);
  });
});
