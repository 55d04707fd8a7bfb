/**
 * Non-Latin answers (issue #10, item 9): the duplicate check and the audit must see Cyrillic,
 * Greek and CJK text as words, not as nothing. Two personas answer in their own language: a
 * Russian one (Tchaikovsky) and a Japanese one (a Kyoto potter).
 */
import { describe, expect, it } from 'vitest';
import { auditExamples, flagAnswer, words } from '../../../src-main/datasets/audit';
import { DuplicateIndex, normalizeText, shingles } from '../../../src-main/questions';

const RUSSIAN = {
  keywords: ['симфония', 'балет', 'консерватория'],
  answers: [
    'Ах, друг мой, симфония рождается в тишине, когда за окном падает снег и Москва засыпает, а я сижу у рояля до самого рассвета и слушаю, как музыка приходит ко мне сама.',
    'Балет — это не просто танец, это музыка, которую видят глазами; когда я писал «Лебединое озеро», я думал о судьбе, о любви и о том, как хрупко всё прекрасное в этом мире.',
    'Консерватория научила меня дисциплине: каждое утро я садился за фугу, и только потом позволял себе мечтать; без ремесла вдохновение проходит мимо, как поезд мимо станции.',
  ],
};

const JAPANESE = {
  // Keywords sit mid-sentence: Japanese puts no space before a word.
  keywords: ['茶碗', '窯', '弟子'],
  answers: [
    '茶碗を作るとき、私はまず土の声を聞きます。京都の冬は寒く、ろくろの前に座ると指先がかじかみますが、その冷たさが器に静けさを与えてくれるのです。焦らず、土が望む形になるまで待つこと、それが四十年かけて学んだことです。',
    '釉薬は天気のようなものです。同じ調合でも窯の中の火の流れで色が変わり、青になるはずが灰色になることもあります。失敗だと思った器が、翌朝には一番美しく見えることもあるので、私は窯を開ける朝がいちばん好きです。',
    '弟子には、まず百個の湯呑みを作らせます。形がそろうまで何も言いません。手が覚えれば、頭は自由になります。伝統とは古いものを守ることではなく、毎日同じことを新しい気持ちで繰り返すことだと私は思っています。',
  ],
};

describe('normalizeText keeps letters of every script', () => {
  it('keeps Cyrillic, Greek and CJK text, lowercased, and splits CJK into characters', () => {
    expect(normalizeText('Симфония 6 — «Патетическая»!')).toBe('симфония 6 патетическая');
    expect(normalizeText('Ἡ μουσική ΕΙΝΑΙ ζωή.')).toBe('η μουσικη ειναι ζωη');
    expect(normalizeText('茶碗を作る。')).toBe('茶 碗 を 作 る');
    // Latin accents still fold, so "café" and "cafe" stay the same word.
    expect(normalizeText('Café, CAFÉ')).toBe('cafe cafe');
    // Kana with voicing marks keep them (が is not か).
    expect(normalizeText('が')).not.toBe(normalizeText('か'));
  });

  it('gives non-Latin texts shingles, not an empty set', () => {
    expect(shingles(RUSSIAN.answers[0] as string).size).toBeGreaterThan(10);
    expect(shingles(JAPANESE.answers[0] as string).size).toBeGreaterThan(10);
  });
});

describe.each([
  ['Russian', RUSSIAN],
  ['Japanese', JAPANESE],
])('the audit of a %s persona', (_name, persona) => {
  const examples = persona.answers.map((answer, i) => ({ id: i + 1, category: 'music', answer }));

  it('flags no distinct answer as a duplicate', () => {
    const { results, summary } = auditExamples(examples, { keywords: persona.keywords, minWords: 20 });
    expect(results.map((r) => r.flags)).toEqual([[], [], []]);
    expect(summary.exactDuplicates).toBe(0);
    expect(summary.nearDuplicates).toBe(0);
    expect(summary.kept).toBe(3);
    expect(summary.keywordPresence).toBe(1);
  });

  it('still finds a real duplicate and a near duplicate', () => {
    const first = persona.answers[0] as string;
    const { results } = auditExamples(
      [
        ...examples,
        { id: 4, category: 'music', answer: first },
        // The same answer with one more sentence at the end: a near duplicate.
        { id: 5, category: 'music', answer: `${first} ${persona === JAPANESE ? 'はい。' : 'Да.'}` },
      ],
      { keywords: persona.keywords, minWords: 20 },
    );
    expect(results[3]!.flags).toEqual(['duplicate']);
    expect(results[4]!.flags).toEqual(['near_duplicate']);
  });

  it('counts words so that a full answer is not too short', () => {
    for (const a of persona.answers) {
      expect(words(a).length).toBeGreaterThanOrEqual(20);
      expect(flagAnswer(a, { keywords: persona.keywords, minWords: 20 })).toEqual([]);
    }
  });
});

describe('DuplicateIndex on non-Latin text', () => {
  it('adds every distinct Russian and Japanese answer', () => {
    const index = new DuplicateIndex();
    for (const a of [...RUSSIAN.answers, ...JAPANESE.answers]) expect(index.addIfNew(a)).toBeNull();
    expect(index.size).toBe(6);
  });
});
