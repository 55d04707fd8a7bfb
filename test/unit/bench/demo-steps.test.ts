import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../src-main/store/repos/runs';
import { demoStepRows, newestDemoRun } from '../../bench/demo-steps';

function run(id: string, createdAt: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    personaId: 'beethoven',
    personaVersion: 1,
    scale: 'mini',
    status: 'completed',
    step: null,
    error: null,
    createdAt,
    updatedAt: createdAt,
    dir: `/runs/${id}`,
    config: {} as RunRecord['config'],
    completedSteps: ['generate', 'train', 'evaluate'],
    timings: { generate: 131, train: 189, evaluate: 85 },
    ...over,
  };
}

describe('demo step rows', () => {
  it('times each step of the newest finished mini run, and the total against 6 minutes', () => {
    const runs = [
      run('old', '2026-12-01T00:00:00Z'),
      run('new', '2026-12-02T00:00:00Z'),
      run('failed', '2026-12-03T00:00:00Z', { status: 'failed' }),
      run('paper', '2026-12-04T00:00:00Z', { scale: 'paper' }),
    ];
    const picked = newestDemoRun(runs);
    expect(picked?.id).toBe('new');
    const rows = demoStepRows(picked);
    expect(rows.map((r) => [r.name, r.value])).toEqual([
      ['demo step: generate', 131],
      ['demo step: train', 189],
      ['demo step: evaluate', 85],
      ['demo: all steps (after set-up)', 405],
    ]);
    expect(rows.at(-1)?.passed).toBe(false); // 405 s > 360 s
    expect(demoStepRows(null)).toEqual([]);
  });
});
