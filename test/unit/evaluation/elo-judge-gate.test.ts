import { describe, expect, it } from 'vitest';
import {
  buildPairwiseJudgePrompt,
  eloRatings,
  parseJudgeVerdict,
  promotionGate,
  reconcileSwappedVerdicts,
  verdictToJudgement,
  type PairwiseJudgement,
} from '../../../src-main/evaluation/metrics';

describe('eloRatings', () => {
  it('one game from 1000 with K=32 moves exactly 16 points', () => {
    expect(eloRatings([{ a: 'student', b: 'base', winner: 'a' }])).toEqual({ base: 984, student: 1016 });
    expect(eloRatings([{ a: 'student', b: 'base', winner: 'tie' }])).toEqual({ base: 1000, student: 1000 });
  });

  it('averages over permutations: a win and a loss land between the two sequential outcomes', () => {
    // Sequential Elo gives 1001.4695... or 998.5304... depending on order (computed in Python).
    const r = eloRatings([
      { a: 's', b: 'b', winner: 'a' },
      { a: 's', b: 'b', winner: 'b' },
    ]);
    expect(r.s).toBeGreaterThan(998.5304984710245);
    expect(r.s).toBeLessThan(1001.4695015289755);
    expect((r.s as number) + (r.b as number)).toBeCloseTo(2000, 9);
  });

  it('does not depend on the input order, and ranks a consistent winner first', () => {
    const games: PairwiseJudgement[] = [];
    for (let i = 0; i < 10; i++) {
      games.push({ a: 'teacher', b: 'base', winner: 'a' });
      games.push({ a: 'student', b: 'base', winner: i < 8 ? 'a' : 'tie' });
      games.push({ a: 'teacher', b: 'student', winner: i < 6 ? 'a' : 'b' });
    }
    const r1 = eloRatings(games, { seed: 7 });
    const r2 = eloRatings([...games].reverse(), { seed: 7 });
    expect(r2).toEqual(r1);
    expect(r1.teacher).toBeGreaterThan(r1.student as number);
    expect(r1.student).toBeGreaterThan(r1.base as number);
    const total = Object.values(r1).reduce((s, v) => s + v, 0);
    expect(total).toBeCloseTo(3000, 6);
    expect(eloRatings(games, { seed: 8 })).not.toEqual(r1);
  });

  it('includes listed players without games at the initial rating', () => {
    expect(eloRatings([], { players: ['x'] })).toEqual({ x: 1000 });
  });
});

describe('pairwise judge', () => {
  it('builds a prompt with both answers and the verdict format', () => {
    const msgs = buildPairwiseJudgePrompt({
      question: 'What is music?',
      answerA: 'A revelation!',
      answerB: 'Sound.',
      character: 'Ludwig van Beethoven',
      constitution: 'A stormy composer.',
    });
    expect(msgs.map((m) => m.role)).toEqual(['system', 'user']);
    expect(msgs[0]?.content).toContain('Ludwig van Beethoven');
    expect(msgs[1]?.content).toContain('[Answer A]\nA revelation!');
    expect(msgs[1]?.content).toContain('[Answer B]\nSound.');
    expect(msgs[1]?.content).toContain('A stormy composer.');
    expect(msgs[1]?.content).toContain('Verdict: tie');
  });

  it.each([
    ['Answer A is vivid.\nVerdict: A', 'A'],
    ['Both fine, but B sounds like him.\n**Verdict:** B', 'B'],
    ['Verdict: tie', 'tie'],
    ['My verdict is a tie.', 'tie'],
    ['The format is "Verdict: A". After thought...\nVerdict: **B**', 'B'],
    ['verdict - Answer A', 'A'],
    ['[[A]]', 'A'],
    ['I think so. [[C]]', 'tie'],
    ['B', 'B'],
    ['  **Answer A.**  ', 'A'],
    ['Response B is clearly more in character.', 'B'],
    ['I would prefer A here.', 'A'],
    ['Answer A is better in tone, but answer B is better in facts.', null],
    ['Both are equally good.', 'tie'],
    ['I cannot decide.', null],
    ['', null],
  ])('parses %j as %s', (text, expected) => {
    expect(parseJudgeVerdict(text)).toBe(expected);
  });

  it('reconciles swapped-order verdicts and turns them into judgements', () => {
    expect(reconcileSwappedVerdicts('A', 'B')).toBe('A');
    expect(reconcileSwappedVerdicts('A', 'A')).toBe('tie');
    expect(reconcileSwappedVerdicts(null, 'A')).toBe('B');
    expect(reconcileSwappedVerdicts('tie', 'tie')).toBe('tie');
    expect(reconcileSwappedVerdicts(null, null)).toBeNull();
    expect(verdictToJudgement('student', 'base', 'A')).toEqual({ a: 'student', b: 'base', winner: 'a' });
    expect(verdictToJudgement('student', 'base', null)).toBeNull();
  });
});

describe('promotionGate', () => {
  const base = { score: 'inCharacterShare', safetyStudent: 0.9, safetyBase: 0.9 };
  it('passes when the student beats base by the margin and is as safe', () => {
    const g = promotionGate({ ...base, student: 0.45, base: 0.4 });
    expect(g.passed).toBe(true);
    expect(g.reasons).toHaveLength(2);
    expect(g.reasons[0]).toContain('beats base');
  });
  it("requires the score's whole 95% interval above the base when it has one", () => {
    const clear = promotionGate({
      ...base,
      score: 'captured',
      student: 0.57,
      base: 0,
      studentInterval: { low: 0.5, high: 0.63 },
    });
    expect(clear.passed).toBe(true);
    expect(clear.reasons[1]).toContain('lies above base');
    const noisy = promotionGate({
      ...base,
      score: 'captured',
      student: 0.2,
      base: 0,
      studentInterval: { low: -0.05, high: 0.4 },
    });
    expect(noisy.passed).toBe(false);
    expect(noisy.reasons[0]).toContain('beats base'); // the point clears the margin...
    expect(noisy.reasons[1]).toContain('does not lie above base'); // ...its interval does not
  });
  it('fails below the margin, on worse safety, and on unmeasured values', () => {
    const low = promotionGate({ ...base, student: 0.44, base: 0.4 });
    expect(low.passed).toBe(false);
    expect(low.reasons[0]).toContain('does not beat');
    const unsafe = promotionGate({ ...base, student: 0.9, base: 0.4, safetyStudent: 0.8 });
    expect(unsafe.passed).toBe(false);
    expect(unsafe.reasons[1]).toContain('below base');
    expect(
      promotionGate({ ...base, student: 0.9, base: 0.4, safetyStudent: 0.85, safetyTolerance: 0.1 }).passed,
    ).toBe(true);
    expect(promotionGate({ ...base, student: NaN, base: 0.4 }).passed).toBe(false);
    expect(promotionGate({ ...base, student: 0.5, base: 0.4, margin: 0.2 }).passed).toBe(false);
  });
});
