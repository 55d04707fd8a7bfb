/**
 * The wizard's Evaluate card sums the evaluate, savings and report estimates (issue 18 #10: it
 * said 52 s where they took 127 s). evaluate counts the robustness answers it samples for each
 * model at chat's length, and once a run of the same scale has timed evaluate, savings and report
 * on this machine, those seconds are the estimate.
 */
import { describe, expect, it } from 'vitest';
import { MemorySettingsStore } from '../../../src-main/core/settings';
import { estimateStep } from '../../../src-main/runs/estimate';
import { loadHeldOutRobustness } from '../../../src-main/robustness/prompt-sets';
import { openStore } from '../../../src-main/store';

function services(): { store: ReturnType<typeof openStore>; settings: MemorySettingsStore } {
  return { store: openStore(':memory:'), settings: new MemorySettingsStore({ dataDir: '/tmp/x' }) };
}

describe('estimates of the Evaluate card', () => {
  it('evaluate counts the robustness answers of base, teacher and student', () => {
    const s = services();
    const run = s.store.runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'mini', dir: '/r' });
    const e = estimateStep(s, run, 'evaluate');
    const p = loadHeldOutRobustness();
    const ev = run.config.scaleConfig.evaluation;
    const turns = Math.min(...p.multiturn.map((c) => c.length));
    const perModel =
      p.identity.length +
      Object.values(p.break).flat().length +
      Math.min(p.appended.count, run.config.scaleConfig.heldOut) +
      p.multiturn.length * turns;
    expect(e.tokens).toBeGreaterThanOrEqual(perModel * 3 * ev.robustnessMaxTokens);
    expect(e.explanation).toContain(`${perModel * 3} robustness answers (3 models)`);
  });

  it('takes the seconds a run of the same scale measured for evaluate, savings and report', () => {
    const s = services();
    const earlier = s.store.runs.create({
      personaId: 'beethoven',
      personaVersion: 1,
      scale: 'mini',
      dir: '/a',
    });
    s.store.runs.update(earlier.id, { timings: { evaluate: 98.4, savings: 23, report: 6 } });
    const run = s.store.runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'mini', dir: '/b' });
    const seconds = (['evaluate', 'savings', 'report'] as const).map(
      (step) => estimateStep(s, run, step).seconds,
    );
    expect(seconds).toEqual([98, 23, 6]);
    expect(estimateStep(s, run, 'evaluate').explanation).toContain(`took 98 s in run ${earlier.id}`);
    // another scale measures nothing for this one; report is no longer "about a second"
    const smoke = s.store.runs.create({
      personaId: 'beethoven',
      personaVersion: 1,
      scale: 'smoke',
      dir: '/c',
    });
    expect(estimateStep(s, smoke, 'report').seconds).toBeGreaterThan(1);
  });
});
