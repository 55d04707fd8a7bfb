/**
 * Each demo step's wall time, from the newest finished mini-scale run in the data folder (the
 * runner records seconds per step in runs.timings as each step ends). The bench does not run
 * the demo itself (9 minutes): run `npm run demo -- --no-serve` with the same
 * CHARACTER_STUDIO_HOME first, then the bench reads its steps. Target: the whole run <= 6 min
 * on an idle 2-core machine (issue 20).
 */
import type { RunRecord } from '../../src-main/store/repos/runs';
import type { BenchRow } from './bench';

export const DEMO_TARGET_S = 360;

/** The newest mini run whose steps all finished, or null. */
export function newestDemoRun(runs: readonly RunRecord[]): RunRecord | null {
  const done = runs.filter((r) => r.scale === 'mini' && r.status === 'completed');
  done.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  return done[0] ?? null;
}

export function demoStepRows(run: RunRecord | null): BenchRow[] {
  if (!run) return [];
  const note = `run ${run.id} (${run.createdAt})`;
  const rows: BenchRow[] = run.completedSteps
    .filter((s) => typeof run.timings[s] === 'number')
    .map((s) => ({ name: `demo step: ${s}`, value: run.timings[s] as number, unit: 's', target: '-', passed: null }));
  const total = rows.reduce((a, r) => a + r.value, 0);
  rows.push({
    name: 'demo: all steps (after set-up)',
    value: total,
    unit: 's',
    target: `<= ${DEMO_TARGET_S}`,
    passed: total <= DEMO_TARGET_S,
    note,
  });
  return rows;
}
