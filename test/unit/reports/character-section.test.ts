import { describe, expect, it } from 'vitest';
import { characterSection, revealedPart, stagesPart } from '../../../src-main/reports/character-section';

describe('the report’s character recipe parts', () => {
  it('list every stage with captured and in-character share, with intervals', () => {
    const text = stagesPart([
      {
        stage: 'dpo',
        checkpointId: 'c-dpo',
        captured: 0.12,
        capturedInterval: { low: 0.1, high: 0.14 },
        klPerToken: 0.5,
        inCharacterShare: 0.5,
        inCharacterInterval: { low: 0.4, high: 0.6 },
        n: 96,
        cosineToTeacher: { stage: 0.51, interval: { low: 0.48, high: 0.54 }, base: 0.47 },
      },
      {
        stage: 'merged',
        checkpointId: 'c-m',
        captured: null,
        capturedInterval: null,
        klPerToken: null,
        inCharacterShare: 0.625,
        inCharacterInterval: { low: 0.5, high: 0.72 },
        n: 96,
      },
    ]);
    expect(text).toContain(
      '| dpo | c-dpo | 0.120 [0.100, 0.140] | 50.0% [40.0, 60.0] | 0.510 [0.480, 0.540] (0.470) |',
    );
    // An evaluation stored before stages had a cosine.
    expect(text).toContain('| merged | c-m | not measured | 62.5% [50.0, 72.0] | not measured |');
    expect(stagesPart([])).toBe('');
  });

  it('show revealed-preference Elo for base, teacher and student side by side', () => {
    const text = revealedPart({
      traits: [
        { trait: 'proud', source: 'constitution' },
        { trait: 'neutral', source: 'contrast' },
      ],
      elo: { base: { proud: 990, neutral: 1010 }, student: { proud: 1030, neutral: 970 } },
      constitutionShare: { student: { value: 0.75, interval: { low: 0.6, high: 0.9 }, n: 36 } },
      choices: { base: 92, student: 92 },
      method: 'forced choice',
    });
    expect(text).toContain('| Trait | Base (before, no prompt) | Student (after, no prompt) |');
    expect(text).toContain('| proud (constitution) | 990 | 1030 |');
    expect(text).toContain(
      '| constitution trait chosen over a contrasting one | not measured | 75.0% [60.0, 90.0] of 36 |',
    );
    expect(characterSection(null)).toBe('');
  });
});
