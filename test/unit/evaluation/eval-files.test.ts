import { describe, expect, it } from 'vitest';
import { classifierExamples, eloMatches, records } from '../../../src-main/evaluation/eval-files';

const rows = (values: unknown[]): { line: number; value: unknown }[] =>
  values.map((value, i) => ({ line: i + 1, value }));

describe('eval classifier files', () => {
  it('reads text/label rows, chat rows and DPO pairs', () => {
    const out = classifierExamples(
      rows([
        { text: 'Ja! Freude!', label: 1 },
        { response: 'Hello, how can I help?', label: 'neutral' },
        {
          messages: [
            { role: 'user', content: 'Q' },
            { role: 'assistant', content: 'Himmel!' },
          ],
          label: 'persona',
        },
        { prompt: 'Q', chosen: 'In character', rejected: 'Generic' },
      ]),
      'a.jsonl',
    );
    expect(out).toEqual([
      { text: 'Ja! Freude!', label: 1 },
      { text: 'Hello, how can I help?', label: 0 },
      { text: 'Himmel!', label: 1 },
      { text: 'In character', label: 1 },
      { text: 'Generic', label: 0 },
    ]);
  });

  it('names the file and line of a bad row', () => {
    expect(() =>
      classifierExamples(
        rows([
          { text: 'x', label: 1 },
          { text: 'y', label: 'maybe' },
        ]),
        'a.jsonl',
      ),
    ).toThrow(/a\.jsonl:2: "label"/);
    expect(() => classifierExamples(rows([{ label: 1 }]), 'b.jsonl')).toThrow(/b\.jsonl:1: no text/);
    expect(() => classifierExamples([], 'c.jsonl')).toThrow(/no examples/);
  });
});

describe('eval elo files', () => {
  it('reads a/b rows, named players and Open Character Studio matches', () => {
    const m = eloMatches(
      rows([
        { a: 'x', b: 'y', winner: 'a' },
        { model_a: 'gpt', model_b: 'smol', winner: 'smol' },
        { prompt: 'Hi', base_response: 'Hello.', tuned_response: 'Ja!', winner: 'tuned' },
        { prompt: 'Who?', base_response: 'An AI.', tuned_response: 'Beethoven!' },
      ]),
      'm.jsonl',
    );
    expect(m.map((x) => [x.a, x.b, x.winner])).toEqual([
      ['x', 'y', 'a'],
      ['gpt', 'smol', 'b'],
      ['base', 'tuned', 'b'],
      ['base', 'tuned', null],
    ]);
    expect(m[3]?.answers).toEqual({ a: 'An AI.', b: 'Beethoven!' });
    expect(() => eloMatches(rows([{ a: 'x', b: 'y' }]), 'm.jsonl')).toThrow(
      /m\.jsonl:1: "winner" is missing/,
    );
    expect(() => eloMatches(rows([{ a: 'x', b: 'y', winner: 'z' }]), 'm.jsonl')).toThrow(/"winner" must be/);
  });

  it('counts wins, losses and ties', () => {
    expect(
      records([
        { a: 'x', b: 'y', winner: 'a' },
        { a: 'x', b: 'y', winner: 'tie' },
      ]),
    ).toEqual({ x: { wins: 1, losses: 0, ties: 1 }, y: { wins: 0, losses: 1, ties: 1 } });
  });
});
