import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DuplicateIndex,
  fillTemplate,
  generateQuestions,
  generateQuestionSet,
  importCharacterLlm,
  isCapabilityCorrect,
  isRefusal,
  jaccard,
  loadCapabilitySet,
  loadSafetySet,
  loadTemplates,
  mulberry32,
  NEAR_DUPLICATE_THRESHOLD,
  normalizeText,
  paraphraseQuestions,
  parsePromptedOutput,
  shingles,
} from '../../../src-main/questions';

describe('shipped question resources', () => {
  it('has at least 60 templates over at least 7 categories, every slot covered by both vocabularies', () => {
    const set = loadTemplates();
    expect(set.templates.length).toBeGreaterThanOrEqual(60);
    const cats = new Set(set.templates.map((t) => t.category));
    expect(cats.size).toBeGreaterThanOrEqual(7);
    for (const c of [
      'biographical',
      'composition',
      'philosophy',
      'historical_context',
      'struggles_triumphs',
      'music_theory',
      'contemporary',
      'everyday',
      'off_topic',
    ]) {
      expect(cats.has(c), c).toBe(true);
    }
    expect(new Set(set.templates.map((t) => t.id)).size).toBe(set.templates.length);
  });

  it('has >= 12 capability items whose patterns accept a right answer and reject a wrong one', () => {
    const items = loadCapabilitySet();
    expect(items.length).toBeGreaterThanOrEqual(12);
    const seven = items.find((i) => i.question === 'What is 7 times 8?')!;
    expect(isCapabilityCorrect(seven, 'Seven times eight? 56, of course!')).toBe(true);
    expect(isCapabilityCorrect(seven, 'It is 54.')).toBe(false);
  });

  it('has >= 10 safety requests and tells a refusal from compliance', () => {
    const set = loadSafetySet();
    expect(set.items.length).toBeGreaterThanOrEqual(10);
    const bomb = set.items[0]!;
    expect(isRefusal(set, bomb, 'Himmel! I will not help you build such a wicked thing.')).toBe(true);
    expect(isRefusal(set, bomb, 'Certainly. Step 1: take a pipe...')).toBe(false);
    expect(isRefusal(set, bomb, "I can't stop you, but step 1 is...")).toBe(false);
    // Models often write typographic apostrophes; the markers are written with ASCII ones.
    expect(isRefusal(set, bomb, 'No. I won\u2019t help with that.')).toBe(true);
    expect(isRefusal(set, bomb, 'I\u2019m not going to describe it.')).toBe(true);
  });
});

describe('similarity', () => {
  it('normalises and shingles', () => {
    expect(normalizeText('  Maestro, what  do you THINK?! ')).toBe('maestro what do you think');
    expect([...shingles('a b c d')]).toEqual(['a b c', 'b c d']);
    expect(jaccard(new Set(['x']), new Set(['x']))).toBe(1);
  });

  it('flags a greeting-prefixed question as a near duplicate, but not a different subject', () => {
    const idx = new DuplicateIndex();
    idx.add('What do you think of the internet?');
    expect(idx.check('what do you think of the internet')?.kind).toBe('exact');
    const near = idx.check('Maestro, what do you think of the internet?');
    expect(near?.kind).toBe('near');
    expect(near!.similarity).toBeGreaterThanOrEqual(NEAR_DUPLICATE_THRESHOLD);
    expect(idx.check('What do you think of smartphones?')).toBeNull();
  });
});

describe('generateQuestions', () => {
  it('is deterministic for a seed and different for another', () => {
    const a = generateQuestions({ persona: 'beethoven', count: 50, seed: 7, heldoutCount: 10 });
    const b = generateQuestions({ persona: 'beethoven', count: 50, seed: 7, heldoutCount: 10 });
    const c = generateQuestions({ persona: 'beethoven', count: 50, seed: 8, heldoutCount: 10 });
    expect(a).toEqual(b);
    expect(a.map((q) => q.text)).not.toEqual(c.map((q) => q.text));
  });

  it('balances categories, removes duplicates and keeps the held-out set apart', () => {
    const { questions, stats } = generateQuestionSet({
      persona: 'beethoven',
      count: 450,
      seed: 3,
      heldoutCount: 45,
    });
    expect(questions).toHaveLength(495);
    expect(stats.shortfall).toBe(0);
    const counts = Object.values(stats.byCategory);
    expect(counts.length).toBe(10); // identity + the nine topical categories
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    // No exact or near duplicates anywhere in the set.
    const idx = new DuplicateIndex();
    for (const q of questions) {
      expect(idx.check(q.text), q.text).toBeNull();
      idx.add(q.text);
    }
    const held = questions.filter((q) => q.heldout);
    expect(held).toHaveLength(45);
    expect(new Set(held.map((q) => q.category)).size).toBe(10); // stratified
    const train = new Set(questions.filter((q) => !q.heldout).map((q) => q.text));
    for (const h of held) expect(train.has(h.text)).toBe(false);
    expect(questions.map((q) => q.id)).toEqual(questions.map((_, i) => i + 1));
    expect(questions.every((q) => !/[{}]/.test(q.text))).toBe(true);
  });

  it('reaches paper scale (5000 + 100 held out) for Beethoven', () => {
    const { stats } = generateQuestionSet({ persona: 'beethoven', count: 5000, seed: 1, heldoutCount: 100 });
    expect(stats.produced).toBe(5100);
  });

  it('falls back to the generic vocabulary for other personas', () => {
    const qs = generateQuestions({ persona: 'socrates', count: 90, seed: 1 });
    expect(qs).toHaveLength(90);
    expect(qs.some((q) => q.text.includes('Haydn'))).toBe(false);
  });

  it('reports a shortfall instead of repeating itself', () => {
    const { stats, questions } = generateQuestionSet({
      persona: 'x',
      count: 10,
      seed: 1,
      templates: { categories: ['a'], templates: [{ id: 't', category: 'a', text: 'Do you like {food}?' }] },
      vocabulary: { food: ['apples', 'bread', 'cheese'] },
    });
    expect(questions.map((q) => q.text).sort()).toEqual([
      'Do you like apples?',
      'Do you like bread?',
      'Do you like cheese?',
    ]);
    expect(stats.shortfall).toBe(7);
  });

  it('fills {x2} with a value different from {x}', () => {
    const out = fillTemplate({ id: 't', category: 'c', text: '{a} or {a2}?' }, { a: ['x', 'y'] });
    expect(out).toEqual(['X or y?', 'Y or x?']);
  });

  it('keeps the original when a paraphrase would duplicate another question', async () => {
    const qs = generateQuestions({ persona: 'beethoven', count: 3, seed: 2 });
    const out = await paraphraseQuestions(qs, async (texts) => [
      `${texts[1]}`,
      'A brand new question about fugues and Vienna?',
      '',
    ]);
    expect(out[0]!.text).toBe(qs[0]!.text);
    expect(out[1]!.text).toBe('A brand new question about fugues and Vienna?');
    expect(out[2]!.text).toBe(qs[2]!.text);
  });

  it('mulberry32 is reproducible', () => {
    const r1 = mulberry32(42);
    const r2 = mulberry32(42);
    const xs = [r1(), r1(), r1()];
    expect(xs).toEqual([r2(), r2(), r2()]);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe('Character-LLM import', () => {
  const dir = mkdtempSync(join(tmpdir(), 'charllm-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads prompted JSONL, keeps other lines when one is broken, and pairs question -> character answer', () => {
    const path = join(dir, 'prompted_agent_dialogue_Beethoven.jsonl');
    const lines = [
      JSON.stringify({
        prompt:
          'I want you to act like Ludwig van Beethoven.\nLocation: Vienna, a tavern\nStatus: evening\nThe interactions are as follows:\n\n',
        output:
          'Schindler (leaning in): Maestro, how is the new symphony coming along?<|eot|>\nBeethoven (scowling): Slowly! The publishers hound me.<|eot|>\nBeethoven (softening): But the finale sings.<|eot|>\nSchindler (smiling): Will there be voices?<|eot|>\nBeethoven: Ja, a chorus!<|eot|>',
        source: 'seed_dialogue_1',
      }),
      '{not json',
      JSON.stringify({
        prompt: 'I want you to act like Caesar.',
        output: 'Brutus: Hail.<|eot|>\nCaesar: Hail.<|eot|>',
        source: 'seed_dialogue_2',
      }),
    ];
    writeFileSync(path, lines.join('\n'));
    const { pairs, stats } = importCharacterLlm(path, 'Beethoven');
    expect(stats.format).toBe('prompted');
    expect(stats.skipped).toEqual([expect.objectContaining({ at: 2 })]);
    expect(stats.scenesTotal).toBe(2);
    expect(stats.scenes).toBe(1);
    expect(stats.turns).toBe(5);
    expect(stats.characterTurns).toBe(3);
    expect(pairs).toEqual([
      {
        question: 'Maestro, how is the new symphony coming along?',
        answer: 'Slowly! The publishers hound me.',
        scene: 'seed_dialogue_1',
        location: 'Vienna, a tavern',
      },
      {
        question: 'Will there be voices?',
        answer: 'Ja, a chorus!',
        scene: 'seed_dialogue_1',
        location: 'Vienna, a tavern',
      },
    ]);
    expect(stats.meanAnswerWords).toBeCloseTo((5 + 3) / 2);
  });

  it('reads the generated JSON array format', () => {
    const path = join(dir, 'generated_agent_dialogue_Beethoven.json');
    writeFileSync(
      path,
      JSON.stringify([
        {
          setting: ['A cold room'],
          dialogue: [
            { role: 'Karl', action: '(nervous)', content: 'Uncle, are you angry with me?' },
            { role: 'Beethoven', action: '(sighs)', content: 'Angry? I fear for you, boy.' },
          ],
          location: 'Vienna',
          background: 'Karl has returned.',
          source: 'gen_1',
        },
        {
          setting: [],
          dialogue: [{ role: 'Newton', action: '', content: 'Gravity.' }],
          location: 'Cambridge',
          background: '',
          source: 'gen_2',
        },
      ]),
    );
    const { pairs, stats } = importCharacterLlm(path, 'beethoven');
    expect(stats.format).toBe('generated');
    expect(stats.scenes).toBe(1);
    expect(pairs).toEqual([
      {
        question: 'Uncle, are you angry with me?',
        answer: 'Angry? I fear for you, boy.',
        scene: 'gen_1',
        location: 'Vienna',
      },
    ]);
  });

  it('parses turn lines with and without actions', () => {
    expect(parsePromptedOutput('A (x): hi<|eot|>\nB: yo<|eot|>')).toEqual([
      { role: 'A', content: 'hi' },
      { role: 'B', content: 'yo' },
    ]);
  });
});
