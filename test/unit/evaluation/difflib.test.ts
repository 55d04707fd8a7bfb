import { describe, expect, it } from 'vitest';
import { SequenceMatcher, difflibRatio } from '../../../src-main/evaluation/difflib';

// Expected values computed with CPython 3.11.7:
//   python3 -c "import difflib; print(repr(difflib.SequenceMatcher(None, a, b).ratio()))"
// (and autojunk=False for the third column).
const longA = 'I am Ludwig van Beethoven, and music is the one true revelation. '.repeat(5);
const longB = 'Music is a higher revelation than all wisdom and philosophy, says Ludwig. '.repeat(4);
const quoteA =
  'Music is the mediator between the spiritual and the sensual life. Although the spirit be not master of that which it creates through music, yet it is blessed in this creation, which, like every creation of art, is mightier than the artist. I shall seize Fate by the throat.';
const quoteB =
  'I shall seize fate by the throat; it shall certainly never wholly overcome me. Music is a higher revelation than all wisdom and philosophy. Only the pure in heart can make a good soup, and the spirit is blessed in every creation of art that is mightier than the artist.';
const cjkB = Array.from({ length: 260 }, (_, i) => String.fromCodePoint(0x4e00 + ((i * 7) % 300))).join('');
const cjkChars = Array.from(cjkB);
const cjkA = [...cjkChars.slice(0, 100), 'x', 'y', 'z', ...cjkChars.slice(120), ...cjkChars.slice(0, 5)].join(
  '',
);

const cases: [string, string, string, number, number][] = [
  ['both empty', '', '', 1.0, 1.0],
  ['one empty', 'abc', '', 0.0, 0.0],
  ['shifted', 'abcd', 'bcde', 0.75, 0.75],
  ['kitten', 'kitten', 'sitting', 0.6153846153846154, 0.6153846153846154],
  ['fox', 'The quick brown fox', 'The quick brown dog', 0.8947368421052632, 0.8947368421052632],
  [
    'sentences',
    'Music is the mediator between the spiritual and the sensual life.',
    'Music is the one incorporeal entrance into the higher world of knowledge.',
    0.4492753623188406,
    0.4492753623188406,
  ],
  ['accents and symbols', 'Für Elise ♪ é', 'Fur Elise ♪ e', 0.8461538461538461, 0.8461538461538461],
  ['astral code points count once', '😀ab', 'ab😀', 0.6666666666666666, 0.6666666666666666],
  ['autojunk drops every popular char', longA, longB, 0.0, 0.44122383252818037],
  [
    'autojunk on a run of one char',
    'a'.repeat(250) + 'b',
    'b' + 'a'.repeat(250),
    0.00398406374501992,
    0.9960159362549801,
  ],
  ['autojunk on two chars', 'x y '.repeat(120), 'y x '.repeat(110), 0.0, 0.9565217391304348],
  ['long text, popular chars still extend matches', quoteA, quoteB, 0.04797047970479705, 0.3874538745387454],
  ['long text without popular chars', cjkA, cjkB, 0.9448818897637795, 0.9448818897637795],
];

describe('difflib SequenceMatcher port', () => {
  it.each(cases)('%s', (_name, a, b, withAutojunk, withoutAutojunk) => {
    expect(difflibRatio(a, b)).toBe(withAutojunk);
    expect(difflibRatio(a, b, false)).toBe(withoutAutojunk);
  });

  it('is asymmetric like Python (b is the indexed side)', () => {
    // python3: SequenceMatcher(None, quoteB, quoteA).ratio() == 0.11808118081180811
    expect(difflibRatio(quoteB, quoteA)).toBe(0.11808118081180811);
  });

  it('matches Python matching blocks', () => {
    // python3: [tuple(m) for m in SequenceMatcher(None, "kitten", "sitting").get_matching_blocks()]
    expect(new SequenceMatcher('kitten', 'sitting').getMatchingBlocks()).toEqual([
      { a: 1, b: 1, size: 3 },
      { a: 5, b: 5, size: 1 },
      { a: 6, b: 7, size: 0 },
    ]);
    expect(new SequenceMatcher('😀ab', 'ab😀').getMatchingBlocks()).toEqual([
      { a: 1, b: 0, size: 2 },
      { a: 3, b: 3, size: 0 },
    ]);
    expect(new SequenceMatcher('abcd', 'bcde').findLongestMatch()).toEqual({ a: 1, b: 0, size: 3 });
  });

  it('compares word arrays', () => {
    // python3: SequenceMatcher(None, "the cat sat on the mat".split(), "the dog sat on a mat".split()).ratio()
    expect(difflibRatio('the cat sat on the mat'.split(' '), 'the dog sat on a mat'.split(' '))).toBe(
      0.6666666666666666,
    );
  });
});
