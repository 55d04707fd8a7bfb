import { describe, expect, it } from 'vitest';
import { percentile, serverLoadRows, type ServerLoadResult } from '../../bench/server-load';

function result(over: Partial<ServerLoadResult>): ServerLoadResult {
  return {
    clients: 4,
    maxTokens: 16,
    completed: 4,
    wallMs: 1000,
    ttftP50Ms: 50,
    ttftP95Ms: 80,
    ttftMaxMs: 90,
    totalP50Ms: 900,
    totalP95Ms: 990,
    tokensPerS: 64,
    requests: [],
    ...over,
  };
}

describe('server load bench', () => {
  it('interpolates percentiles between closest ranks', () => {
    expect(percentile([10, 20, 30, 40], 50)).toBe(25);
    expect(percentile([40, 10, 30, 20], 95)).toBeCloseTo(38.5);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('passes a fair run and fails a starved or incomplete one', () => {
    const verdict = (r: ServerLoadResult): (boolean | null)[] => serverLoadRows(r).map((row) => row.passed);
    expect(verdict(result({}))).toEqual([null, null, null, null, null, true, true]);
    // One request at a time: the last client's first token comes after most requests are done.
    expect(verdict(result({ ttftMaxMs: 2400, totalP50Ms: 1500 })).at(-1)).toBe(false);
    expect(verdict(result({ completed: 3 })).slice(-2)).toEqual([false, false]);
    const names = serverLoadRows(result({})).map((row) => row.name);
    expect(names[0]).toBe('server load, 4 streaming clients × 16 tokens: time to first token p50');
  });
});
