import { describe, expect, it } from 'vitest';
import type { MergeGridPoint } from '../../../src-shared/character';
import { chooseFromGrid, MERGE_GRID_WEIGHTS } from '../../../src-main/pipeline/recipes/character-merge-grid';

function point(dpo: number, sft: number, captured: number, share: number, low: number): MergeGridPoint {
  return {
    dpo,
    sft,
    captured,
    capturedInterval: null,
    inCharacterShare: share,
    inCharacterInterval: { low, high: Math.min(1, share + 0.1) },
    n: 36,
  };
}

describe('paper mode’s merge grid', () => {
  it('covers 0.25 to 1 for each adapter', () => {
    expect(MERGE_GRID_WEIGHTS).toEqual([0.25, 0.5, 0.75, 1]);
  });

  it('chooses the closest to the teacher among the points as in character as the best', () => {
    const points = [
      point(1, 1, -2.4, 0.23, 0.15), // the old default: broken
      point(0.5, 0.5, 0.2, 0.7, 0.55),
      point(0.25, 0.75, 0.35, 0.6, 0.45), // closer to the teacher, share within the best's interval
      point(0.75, 0.25, 0.5, 0.4, 0.3), // closest, but out of character
    ];
    expect(chooseFromGrid(points)).toMatchObject({ dpo: 0.25, sft: 0.75 });
    expect(chooseFromGrid([])).toBeNull();
    // A point whose captured could not be measured loses to one that was.
    expect(chooseFromGrid([point(1, 1, NaN, 0.5, 0.3), point(0.5, 1, 0.1, 0.5, 0.3)])).toMatchObject({
      dpo: 0.5,
    });
  });
});
