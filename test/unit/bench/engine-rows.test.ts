import { describe, expect, it } from 'vitest';
import { engineSummaryRows, formatBenchTable } from '../../bench/bench';

const engine = {
  machine: { cpus: 2, cpu_flags: ['avx2', 'fma'] },
  summary: {
    generation_speedup: 16.2,
    generation_fraction_of_limit: 0.41,
    generation_limit_tokens_per_s: 900,
    bf16_kl_per_token: 0.002,
    bf16_used: false,
  },
};

describe('engine bench rows', () => {
  it('marks each target with a tick or a cross and names the machine and dtype on every row', () => {
    const rows = engineSummaryRows(engine);
    const byKey = (name: string): (typeof rows)[number] | undefined => rows.find((r) => r.name.includes(name));
    expect(byKey('one at a time')?.passed).toBe(true); // 16.2 >= 15
    expect(byKey('matmul limit, same batch')?.passed).toBe(false); // 0.41 < 0.70
    expect(byKey("machine's matmul limit for the model")?.passed).toBeNull();
    expect(byKey('KL(fp32 || bf16)')?.passed).toBe(true);
    expect(rows.every((r) => r.note === '2 cores, flags avx2 fma, fp32')).toBe(true);
    const table = formatBenchTable(rows);
    expect(table).toContain('✔');
    expect(table).toContain('✘');
    expect(table).toContain('(2 cores, flags avx2 fma, fp32)');
  });

  it('skips rows the engine bench did not measure', () => {
    expect(engineSummaryRows({ summary: {} })).toEqual([]);
    expect(engineSummaryRows(null)).toEqual([]);
  });
});
