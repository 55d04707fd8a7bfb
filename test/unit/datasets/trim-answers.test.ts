/**
 * Answers that end (issue 17): a training answer cut off at the length limit is trimmed to its
 * last full sentence, its top-k file cut to match with the end marked; held-out answers, answers
 * that ended, and answers with no full sentence stay as they were.
 */
import { describe, expect, it } from 'vitest';
import {
  emptyTrimCounts,
  lastFullSentence,
  trimCutOffAnswers,
  type AnswerToTrim,
  type TopkTrimmer,
} from '../../../src-main/datasets/trim-answers';

describe('lastFullSentence', () => {
  it('keeps the text up to its last sentence end, closing quotes included', () => {
    expect(lastFullSentence('I wrote nine symphonies. The Ninth ends with a choir. And then I')).toBe(
      'I wrote nine symphonies. The Ninth ends with a choir.',
    );
    expect(lastFullSentence('He said to me, "Play it again, Ludwig!" Then he left the')).toBe(
      'He said to me, "Play it again, Ludwig!"',
    );
    expect(lastFullSentence('Is music not the voice of God? I believe it is so, and yet')).toBe(
      'Is music not the voice of God?',
    );
  });

  it('does not cut at abbreviations or initials', () => {
    expect(
      lastFullSentence('My quartet Op. 131 is the one I love best of all my quartets, Op. 132 follows'),
    ).toBe(null);
    expect(
      lastFullSentence('The cathedral of St. Stephen rang its bells for me. We walked past St. Michael'),
    ).toBe('The cathedral of St. Stephen rang its bells for me.');
    expect(lastFullSentence('I studied with J. Haydn in Vienna for a year. He taught me little, I')).toBe(
      'I studied with J. Haydn in Vienna for a year.',
    );
  });

  it('gives null without a full sentence of at least five words', () => {
    expect(lastFullSentence('Yes. I think that the finale of the symphony is where')).toBe(null);
    expect(lastFullSentence('no sentence ends here at all and it keeps going')).toBe(null);
  });
});

function answer(over: Partial<AnswerToTrim>): AnswerToTrim {
  return {
    text: 'Music is the wine of the soul. It stirs the heart and',
    finishReason: 'length',
    completionTokens: 128,
    topkPath: '/run/topk/1.safetensors',
    heldout: false,
    ...over,
  };
}

describe('trimCutOffAnswers', () => {
  it('trims cut-off training answers, file and text, and counts what it did', async () => {
    const asked: { path: string; text: string }[] = [];
    const trimmer: TopkTrimmer = async (files) => {
      asked.push(...files);
      return files.map((f) => ({ path: f.path, trimmed: !f.path.endsWith('/3.safetensors'), rows: 9 }));
    };
    const counts = emptyTrimCounts();
    const out = await trimCutOffAnswers(
      [
        answer({}),
        answer({ finishReason: 'stop', completionTokens: 40 }),
        answer({ heldout: true, topkPath: '/run/topk/2.safetensors' }),
        answer({ topkPath: '/run/topk/3.safetensors' }),
        answer({
          text: 'no full sentence in this cut off answer at all',
          topkPath: '/run/topk/4.safetensors',
        }),
        answer({ topkPath: null }),
      ],
      trimmer,
      counts,
    );
    // Only the training answers with a full sentence go to the engine.
    expect(asked).toEqual([
      { path: '/run/topk/1.safetensors', text: 'Music is the wine of the soul.' },
      { path: '/run/topk/3.safetensors', text: 'Music is the wine of the soul.' },
    ]);
    expect(out[0]).toMatchObject({
      text: 'Music is the wine of the soul.',
      finishReason: 'stop',
      completionTokens: 9,
    });
    expect(out[1]).toMatchObject({ finishReason: 'stop', completionTokens: 40 });
    expect(out[2]).toMatchObject({ finishReason: 'length', completionTokens: 128 });
    // The engine could not cut file 3 on a token boundary: text and file stay as they were.
    expect(out[3]).toMatchObject({ finishReason: 'length', text: answer({}).text, completionTokens: 128 });
    expect(out[4]).toMatchObject({ finishReason: 'length' });
    // No top-k file (an endpoint without distributions): the text alone is trimmed.
    expect(out[5]).toMatchObject({
      text: 'Music is the wine of the soul.',
      finishReason: 'stop',
      completionTokens: 128,
    });
    expect(counts).toEqual({ cutOff: 4, trimmed: 2, leftCutOff: 2 });
  });
});
