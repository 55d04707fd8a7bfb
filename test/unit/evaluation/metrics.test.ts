import { describe, expect, it } from 'vitest';
import {
  MetricInputError,
  cosineSimilarity,
  keywordHits,
  keywordPresence,
  mean,
  median,
  std,
  summarize,
} from '../../../src-main/evaluation/metrics';

describe('statistics', () => {
  // python3: statistics.mean/median/pstdev/stdev of [3,1,4,1,5,9,2,6]
  const xs = [3, 1, 4, 1, 5, 9, 2, 6];
  it('matches Python statistics', () => {
    expect(mean(xs)).toBe(3.875);
    expect(median(xs)).toBe(3.5);
    expect(median([5, 1, 3])).toBe(3);
    expect(std(xs)).toBeCloseTo(2.5708704751503917, 14);
    expect(std(xs, true)).toBeCloseTo(2.748376143938713, 14);
    expect(summarize(xs)).toMatchObject({ n: 8, min: 1, max: 9, mean: 3.875, median: 3.5 });
  });
  it('is NaN where undefined and does not reorder the input', () => {
    expect(mean([])).toBeNaN();
    expect(median([])).toBeNaN();
    expect(std([7], true)).toBeNaN();
    expect(std([7])).toBe(0);
    expect(summarize([]).max).toBeNaN();
    const copy = [...xs];
    median(xs);
    expect(xs).toEqual(copy);
  });
});

describe('cosineSimilarity', () => {
  it('computes the cosine and handles zero vectors', () => {
    // python3: dot([1,2,3],[4,5,6]) / (|a| |b|)
    expect(cosineSimilarity([1, 2, 3], [4, 5, 6])).toBeCloseTo(0.9746318461970762, 14);
    expect(cosineSimilarity([1, 0], [0, 1])).toBe(0);
    expect(cosineSimilarity([1, 1], [-1, -1])).toBeCloseTo(-1, 14);
    expect(cosineSimilarity([0, 0], [1, 2])).toBe(0);
  });
  it('throws a typed error on length mismatch', () => {
    expect(() => cosineSimilarity([1, 2], [1, 2, 3])).toThrow(MetricInputError);
  });
});

describe('keywords', () => {
  const keywords = ['Vienna', 'symphony', 'Für Elise', 'C++'];
  it('matches whole words case-insensitively, multi-word and symbols included', () => {
    const h = keywordHits('In VIENNA I wrote my Ninth Symphony, not Für  Elise.', keywords);
    expect(h.hits).toEqual(['Vienna', 'symphony', 'Für Elise']);
    expect(h.present).toBe(true);
    expect(h.share).toBe(0.75);
    expect(keywordHits('symphonyX and Viennas', keywords).hits).toEqual([]);
    expect(keywordHits('I code in C++ daily', keywords).hits).toEqual(['C++']);
  });
  it('computes the share of texts with a keyword', () => {
    expect(keywordPresence(['a symphony', 'nothing here', 'vienna!', 'no'], keywords)).toBe(0.5);
    expect(keywordPresence([], keywords)).toBeNaN();
    expect(keywordPresence(['anything'], [])).toBe(0);
  });
});
