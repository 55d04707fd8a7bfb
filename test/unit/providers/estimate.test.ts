import { describe, expect, it } from 'vitest';
import { estimateGeneration } from '../../../src-main/providers';
import { modelSpecName } from '../../../src-main/core/model-spec';

describe('estimateGeneration', () => {
  it('computes tokens, cost and time by hand', () => {
    // 1000 items x 700 prompt = 700,000 in; 1000 x 200 = 200,000 out.
    // $0.15/M in -> 0.105; $0.60/M out -> 0.12; total 0.225. 200,000 / 181 tok/s = 1104.97 s.
    const e = estimateGeneration({
      count: 1000,
      promptTokens: 700,
      maxNewTokens: 200,
      tokensPerSecond: 181,
      pricePerMillionInput: 0.15,
      pricePerMillionOutput: 0.6,
    });
    expect(e.inputTokens).toBe(700_000);
    expect(e.outputTokens).toBe(200_000);
    expect(e.tokens).toBe(900_000);
    expect(e.costUsd).toBeCloseTo(0.225, 12);
    expect(e.seconds).toBeCloseTo(1104.97, 2);
    expect(e.explanation).toContain('181 tokens/s');
  });

  it('leaves the time unknown without a measured throughput, and a local engine costs nothing', () => {
    const e = estimateGeneration({
      count: 10,
      promptTokens: 50,
      maxNewTokens: 64,
      pricePerMillionInput: 0,
      pricePerMillionOutput: 0,
    });
    expect(e.seconds).toBeNull();
    expect(e.costUsd).toBe(0);
    expect(e.tokens).toBe(1140);
    expect(e.explanation).toContain('time unknown');
  });
});

describe('modelSpecName', () => {
  it('names each model source', () => {
    expect(modelSpecName({ source: 'default' })).toBe('SmolLM2-135M-Instruct');
    expect(modelSpecName({ source: 'local', path: '/models/tiny/' })).toBe('tiny');
    expect(modelSpecName({ source: 'gguf', path: '/m/a.Q4.gguf' })).toBe('a.Q4.gguf');
    expect(modelSpecName({ source: 'hub', repo_id: 'org/m', revision: 'main' })).toBe('org/m@main');
  });
});
