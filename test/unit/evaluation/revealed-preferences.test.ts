import { describe, expect, it } from 'vitest';
import type { RevealedTrait } from '../../../src-shared/character';
import type { EngineClient } from '../../../src-main/engine/client';
import {
  choicePrompt,
  debiasedVerdict,
  revealedPreferences,
  summarizeChoices,
  traitPairs,
} from '../../../src-main/evaluation/revealed-preferences';
import { CONTRAST_TRAITS, constitutionTraits, revealedTraits } from '../../../src-main/evaluation/traits';
import { eloFromVerdicts, judgeLocally } from '../../../src-main/evaluation/judge-local';

const own = (trait: string): RevealedTrait => ({ trait, source: 'constitution' });
const contrast = (trait: string): RevealedTrait => ({ trait, source: 'contrast' });

/**
 * A fake engine whose kl_metrics scores each reply as a model would that prefers the letter "A"
 * by `bias` nats and each trait by its `taste` (the trait named after A) / B): log p = bias for
 * A + taste of the trait the letter stands for. `teacherTaste` applies to the teacher slot.
 */
function fakeEngine(
  taste: Record<string, number>,
  bias: number,
  teacherTaste: Record<string, number> = taste,
): { engine: EngineClient; calls: unknown[] } {
  const calls: unknown[] = [];
  const engine = {
    call: async (
      method: string,
      params: { items: { messages: { content: string }[]; response: string }[] },
    ) => {
      calls.push({ method, params });
      expect(method).toBe('kl_metrics');
      const lp = (t: Record<string, number>, content: string, response: string): number => {
        const trait =
          new RegExp(`^${response.replace('Verdict: ', '')}\\) (.+)$`, 'm').exec(content)?.[1] ?? '';
        return (response.endsWith('A') ? bias : 0) + (t[trait] ?? 0);
      };
      return {
        items: params.items.map((it) => {
          const content = it.messages[0]!.content;
          return {
            tokens: 2,
            teacher_nll: -lp(teacherTaste, content, it.response),
            students: [{ kl: 0, nll: -lp(taste, content, it.response) }],
          };
        }),
      };
    },
  } as unknown as EngineClient;
  return { engine, calls };
}

describe('revealed preferences', () => {
  it('pairs every constitution trait with every contrasting one, plus neighbours on each side', () => {
    const pairs = traitPairs([own('proud'), own('warm'), contrast('neutral'), contrast('formal')]);
    expect(pairs.map((p) => `${p.a.trait}-${p.b.trait}`)).toEqual([
      'proud-neutral',
      'proud-formal',
      'warm-neutral',
      'warm-formal',
      'proud-warm',
      'neutral-formal',
    ]);
    expect(new Set(pairs.map((p) => p.scene)).size).toBeGreaterThan(1);
    expect(choicePrompt('A scene.', 'proud', 'neutral')).toMatch(/A\) proud\nB\) neutral/);
  });

  it('cancels the order bias: a model that loves the letter A still reveals its preference', () => {
    // d1 = lpA - lpB with A = x; d2 with A = y. Bias 5 nats for "A", preference 0.3 nats for x.
    expect(debiasedVerdict({ A: 5.3, B: 0 }, { A: 5, B: 0.3 })).toBe('A');
    expect(debiasedVerdict({ A: 5, B: 0.3 }, { A: 5.3, B: 0 })).toBe('B');
    expect(debiasedVerdict({ A: 5, B: 0 }, { A: 5, B: 0 })).toBe('tie');
    expect(debiasedVerdict({ A: NaN, B: 0 }, { A: 5, B: 0 })).toBeNull();
    expect(debiasedVerdict(undefined, { A: 5, B: 0 })).toBeNull();
  });

  it('rates the preferred traits higher and counts how often the constitution wins', () => {
    const traits = [own('proud'), own('warm'), contrast('neutral'), contrast('formal')];
    const pairs = traitPairs(traits);
    // The model picks the first trait of every pair but the last (a tie).
    const s = summarizeChoices(traits, pairs, ['A', 'A', 'A', 'A', 'A', 'tie']);
    expect(s.elo.proud).toBeGreaterThan(s.elo.warm!);
    expect(s.elo.warm).toBeGreaterThan(s.elo.neutral!);
    expect(s.share.value).toBe(1);
    expect(s.share.n).toBe(4);
    const half = summarizeChoices(traits, pairs, ['A', 'B', 'tie', 'B', null, null]);
    expect(half.share.value).toBeCloseTo((1 + 0 + 0.5 + 0) / 4);
    expect(half.share.interval.low).toBeLessThan(half.share.value);
  });

  it('reads each model’s choices from one kl_metrics call, teacher with its constitution', async () => {
    const traits = [own('proud'), own('warm'), contrast('neutral'), contrast('formal')];
    // Students prefer the contrasting traits, the teacher its own; all love the letter A.
    const { engine, calls } = fakeEngine({ proud: 0, warm: 0, neutral: 1, formal: 0.8 }, 4, {
      proud: 1,
      warm: 0.8,
      neutral: 0,
      formal: 0,
    });
    const summary = await revealedPreferences({
      engine,
      traits,
      models: [
        { role: 'teacher', model: { source: 'default' }, system: 'CONSTITUTION' },
        { role: 'base', model: { source: 'default' } },
      ],
    });
    expect(calls).toHaveLength(1);
    const params = (calls[0] as { params: { teacher: { system: string }; items: unknown[] } }).params;
    expect(params.teacher.system).toBe('CONSTITUTION');
    expect(params.items).toHaveLength(6 * 2 * 2); // pairs x orders x {A, B}
    expect(summary.constitutionShare.teacher?.value).toBe(1);
    expect(summary.constitutionShare.base?.value).toBe(0);
    expect(summary.elo.teacher!.proud).toBeGreaterThan(summary.elo.teacher!.neutral!);
    expect(summary.elo.base!.neutral).toBeGreaterThan(summary.elo.base!.proud!);
    expect(summary.choices.base).toBe(12);
  });

  it('takes a constitution’s traits list, else trait words its text uses, and a contrasting side', () => {
    const listed = `meta:\n  name: X\npersona:\n  identity: You are X.\ndirectives:\n  a:\n    - be\ntraits:\n  - Proud\n  - curious\n`;
    expect(constitutionTraits({ source: listed, format: 'yaml', systemPrompt: 'You are X.' })).toEqual([
      'proud',
      'curious',
    ]);
    const text =
      'You are a stubborn, passionate and witty composer who is never neutral about anything at all.';
    expect(constitutionTraits({ source: text, format: 'text', systemPrompt: text })).toEqual([
      'stubborn',
      'passionate',
      'witty',
    ]);
    const traits = revealedTraits(['neutral', 'proud']);
    expect(traits.filter((t) => t.source === 'contrast').map((t) => t.trait)).not.toContain('neutral');
    expect(traits.filter((t) => t.source === 'contrast')).toHaveLength(6);
    expect(CONTRAST_TRAITS.length).toBeGreaterThanOrEqual(6);
  });
});

describe('the local judge', () => {
  it('judges both orders from the engine’s log-probabilities and cancels position bias', async () => {
    // The judge prefers whatever answer mentions "Freude" by 0.5 nats and the first position by 3.
    const engine = {
      call: async (
        _m: string,
        params: { items: { messages: { content: string }[]; response: string }[] },
      ) => ({
        items: params.items.map((it) => {
          const c = it.messages[0]!.content;
          const answerA = /\[Answer A\]\n(.*)/.exec(c)?.[1] ?? '';
          const answerB = /\[Answer B\]\n(.*)/.exec(c)?.[1] ?? '';
          const picked = it.response.endsWith('A') ? answerA : answerB;
          const lp = (it.response.endsWith('A') ? 3 : 0) + (picked.includes('Freude') ? 0.5 : 0);
          return { tokens: 3, teacher_nll: -lp, students: [{ kl: 0, nll: -lp }] };
        }),
      }),
    } as unknown as EngineClient;
    const matches = [
      { question: 'Q', a: { player: 'base', answer: 'Hello.' }, b: { player: 'tuned', answer: 'Freude!' } },
      { question: 'Q', a: { player: 'tuned', answer: 'Freude!' }, b: { player: 'base', answer: 'Hi.' } },
      { question: 'Q', a: { player: 'base', answer: 'Hello.' }, b: { player: 'tuned', answer: 'Hi.' } },
    ];
    const verdicts = await judgeLocally(engine, { model: { source: 'default' }, character: 'B' }, matches);
    expect(verdicts).toEqual(['B', 'A', 'tie']);
    const elo = eloFromVerdicts(matches, verdicts, ['base', 'tuned', 'nobody']);
    expect(elo.tuned).toBeGreaterThan(elo.base!);
    expect(elo.nobody).toBeNaN();
  });
});
