import { describe, expect, it } from 'vitest';
import { computeSavings, costPerQuery, summariseOutputs, trainingCostUsd } from '../../../src-main/savings';

const prices = {
  teacherInputPerMillion: 0.5,
  teacherOutputPerMillion: 1.5,
  studentInputPerMillion: 0.5,
  studentOutputPerMillion: 1.5,
};

describe('computeSavings (hand-computed)', () => {
  const base = {
    promptTokensTeacher: 700,
    promptTokensStudent: 30,
    completionTokensTeacher: 100,
    completionTokensStudent: 100,
    ttftMsTeacher: 601,
    ttftMsStudent: 71,
    latencyMsTeacher: 12190,
    latencyMsStudent: 2530,
    prices,
    trainingCostUsd: 6.7,
  };

  it('computes reduction, ratios, cost per million and payback', () => {
    const s = computeSavings(base);
    // 1 - 30/700
    expect(s.tokenReduction).toBeCloseTo(0.9571428571428572, 12);
    // 12190 / 2530 and 601 / 71
    expect(s.latencyRatio).toBeCloseTo(4.818181818181818, 12);
    expect(s.ttftRatio).toBeCloseTo(8.464788732394366, 12);
    // teacher: (700 x 0.5 + 100 x 1.5) / 1e6 = 0.0005 per query = $500 per million queries
    // student: (30 x 0.5 + 100 x 1.5) / 1e6 = 0.000165 per query = $165 per million queries
    expect(s.costPerMillionTeacher).toBeCloseTo(500, 9);
    expect(s.costPerMillionStudent).toBeCloseTo(165, 9);
    expect(s.savingPerQuery).toBeCloseTo(0.000335, 15);
    // 6.70 / 0.000335 = 20,000 queries exactly
    expect(s.paybackQueries).toBe(20_000);
    expect(s.promptTokensTeacher).toBe(700);
    expect(s.latencyMsStudent).toBe(2530);
  });

  it('rounds payback up and handles free training and no saving', () => {
    expect(computeSavings({ ...base, trainingCostUsd: 6.71 }).paybackQueries).toBe(20_030);
    expect(computeSavings({ ...base, trainingCostUsd: 0 }).paybackQueries).toBe(0);
    const noSaving = computeSavings({ ...base, promptTokensStudent: 700 });
    expect(noSaving.savingPerQuery).toBe(0);
    expect(noSaving.paybackQueries).toBeNull();
    // A student priced higher than the teacher never pays back.
    const dearer = computeSavings({ ...base, prices: { ...prices, studentOutputPerMillion: 10 } });
    expect(dearer.paybackQueries).toBeNull();
    expect(computeSavings({ ...base, latencyMsStudent: 0 }).latencyRatio).toBeNaN();
  });

  it('has small helpers for one query and for training time', () => {
    expect(costPerQuery(1_000_000, 0, 2, 99)).toBe(2);
    expect(costPerQuery(0, 500_000, 99, 4)).toBe(2);
    // 90 minutes at $2/hour
    expect(trainingCostUsd(5400, 2)).toBe(3);
  });
});

describe('summariseOutputs', () => {
  it('means token counts and takes median times', () => {
    const outs = [
      {
        text: 'a',
        prompt_tokens: 10,
        completion_tokens: 5,
        ttft_ms: 900,
        total_ms: 3000,
        finish_reason: 'stop' as const,
      },
      {
        text: 'b',
        prompt_tokens: 12,
        completion_tokens: 7,
        ttft_ms: 100,
        total_ms: 1000,
        finish_reason: 'stop' as const,
      },
      {
        text: 'c',
        prompt_tokens: 14,
        completion_tokens: 9,
        ttft_ms: 110,
        total_ms: 1100,
        finish_reason: 'length' as const,
      },
    ];
    expect(summariseOutputs(outs)).toEqual({
      n: 3,
      promptTokens: 12,
      completionTokens: 7,
      ttftMs: 110,
      latencyMs: 1100,
    });
  });
});
