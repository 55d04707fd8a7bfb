/**
 * Bringing data in (issue #10 item 7, issue #11 item 10): chat JSONL, ShareGPT and Alpaca files
 * give question -> answer pairs with line-numbered skips; the layout is detected, and a file of
 * another layout than the one asked for is refused naming what it looks like; UTF-16 files are
 * converted; the Character-LLM reader survives null lines and keeps spoken turns, not thoughts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src-main/core/errors';
import {
  decodeText,
  importCharacterLlm,
  importData,
  importText,
  parseCharacterLlm,
  parsePromptedOutput,
} from '../../../src-main/questions';

const dir = mkdtempSync(join(tmpdir(), 'imports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const Q1 = 'Maestro, what do you think of the internet?';
const A1 = 'Ach! A great hall where everyone shouts and nobody listens. Give me a quiet room and a piano.';
const Q2 = 'How do you compose when you cannot hear?';
const A2 = 'I hear it inside, more clearly than any orchestra could ever play it for me.';

const chatLine = (q: string, a: string, system = false): string =>
  JSON.stringify({
    messages: [
      ...(system ? [{ role: 'system', content: 'You are Beethoven.' }] : []),
      { role: 'user', content: q },
      { role: 'assistant', content: a },
    ],
  });

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('chat JSONL', () => {
  it('gives every user -> assistant pair, drops system prompts and skips bad lines by number', () => {
    const text = [
      chatLine(Q1, A1, true),
      '{"messages": [{"role": "user", "content": "broken"',
      'null',
      JSON.stringify({ messages: [{ role: 'user', content: 'Hello?' }] }),
      '',
      JSON.stringify({
        messages: [
          { role: 'user', content: [{ type: 'text', text: Q2 }] },
          { role: 'assistant', content: A2 },
          { role: 'user', content: 'And then?' },
          { role: 'assistant', content: 'Then I wrote it down.' },
        ],
      }),
    ].join('\n');
    const r = importText(text, 'chat.jsonl');
    expect(r.format).toBe('chat');
    expect(r.layout).toBe('chat JSONL (messages)');
    expect(r.pairs.map((p) => [p.question, p.answer, p.source])).toEqual([
      [Q1, A1, 'line 1'],
      [Q2, A2, 'line 6'],
      ['And then?', 'Then I wrote it down.', 'line 6, turn 2'],
    ]);
    // issue 18 #12: a later turn keeps the conversation before it
    expect(r.pairs[1]?.history).toBeUndefined();
    expect(r.pairs[2]?.history).toEqual([
      { role: 'user', content: Q2 },
      { role: 'assistant', content: A2 },
    ]);
    expect(r.systemPrompts).toBe(1);
    expect(r.skipped.map((s) => s.at)).toEqual([2, 3, 4]);
    expect(r.skipped[0]!.reason).toMatch(/not valid JSON/);
    expect(r.skipped[1]!.reason).toBe('not a JSON object (null)');
    expect(r.skipped[2]!.reason).toBe('no user message answered by the assistant');
  });

  it('cuts a teacher’s reasoning out of an answer and counts it', () => {
    const r = importText(
      [chatLine(Q1, `<think>He asks about the internet.</think>\n${A1}`), chatLine(Q2, '<think>Hmm')].join(
        '\n',
      ),
      'r1.jsonl',
    );
    expect(r.pairs).toEqual([{ question: Q1, answer: A1, source: 'line 1', thinking: true }]);
    expect(r.withThinking).toBe(1);
    expect(r.skipped).toEqual([{ at: 2, reason: 'the answer is all reasoning (<think>…): no spoken reply' }]);
  });
});

describe('ShareGPT and Alpaca', () => {
  it('reads ShareGPT conversations (human/gpt) as JSON Lines and as a JSON array', () => {
    const conv = {
      conversations: [
        { from: 'system', value: 'Be Beethoven.' },
        { from: 'human', value: Q1 },
        { from: 'gpt', value: A1 },
      ],
    };
    const jsonl = importText(
      `${JSON.stringify(conv)}\n${JSON.stringify({ conversations: 'x' })}\n`,
      's.jsonl',
    );
    expect(jsonl.format).toBe('sharegpt');
    expect(jsonl.pairs.map((p) => [p.question, p.answer])).toEqual([[Q1, A1]]);
    expect(jsonl.skipped).toEqual([{ at: 2, reason: 'no "conversations" list' }]);
    const array = importText(JSON.stringify([conv, conv], null, 2), 's.json');
    expect(array.unit).toBe('entry');
    expect(array.pairs).toHaveLength(2);
    expect(array.pairs[1]!.source).toBe('entry 2');
  });

  it('reads Alpaca records, joining instruction and input', () => {
    const r = importText(
      JSON.stringify(
        [
          { instruction: Q1, input: '', output: A1 },
          { instruction: 'Describe this piece.', input: 'Für Elise', output: A2 },
          { instruction: 'No output here' },
        ],
        null,
        2,
      ),
      'alpaca_data.json',
    );
    expect(r.format).toBe('alpaca');
    expect(r.pairs.map((p) => p.question)).toEqual([Q1, 'Describe this piece.\n\nFür Elise']);
    // The third entry has the instruction but no output: it is skipped by entry number.
    expect(r.skipped).toEqual([{ at: 3, reason: 'no text "instruction" and "output"' }]);
  });
});

describe('layout detection', () => {
  const chat = [chatLine(Q1, A1), chatLine(Q2, A2)].join('\n');

  it('refuses a requested layout the file does not have, naming the one it has', () => {
    const e = errorOf(() => importText(chat, 'data.jsonl', { format: 'alpaca' }));
    expect(e.message).toBe(
      'data.jsonl is not an Alpaca (instruction/input/output) file; it looks like chat JSONL (messages) (2 of its first 2 records): import it as chat',
    );
    expect(e.detail).toMatchObject({ requested: 'alpaca', detected: 'chat' });
  });

  it('refuses a file of no known layout, naming the first record’s keys and line', () => {
    const e = errorOf(() => importText('\n{"q": "a", "a": "b"}\n', 'odd.jsonl'));
    expect(e.message).toMatch(/^odd\.jsonl:2: cannot tell the layout: the record is an object with q, a;/);
    expect(e.detail).toMatchObject({ line: 2 });
  });

  it('names the line and column of a JSON array that does not parse', () => {
    const e = errorOf(() => importText('[\n  {"instruction": "a", "output": "b"},\n  {oops}\n]', 'bad.json'));
    expect(e.message).toMatch(/^bad\.json:3:\d+: not valid JSON/);
    expect(e.detail).toMatchObject({ line: 3 });
  });

  it('needs a character for Character-LLM files', () => {
    const line = JSON.stringify({
      prompt: 'x',
      output: 'Karl: Hi<|eot|>\nBeethoven: Ja.<|eot|>',
      source: 's',
    });
    expect(errorOf(() => importText(line, 'c.jsonl')).message).toMatch(/name the character/);
    expect(importText(line, 'c.jsonl', { character: 'Beethoven' }).pairs).toEqual([
      { question: 'Hi', answer: 'Ja.', source: 's', location: null },
    ]);
  });
});

describe('encodings', () => {
  const text = `${chatLine(Q1, A1)}\n${chatLine('Und Schiller?', 'Freude, schöner Götterfunken!')}\n`;

  it('converts UTF-16 LE and BE with a byte-order mark, and says so', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const r = importData(file('utf16le.jsonl', le));
    expect(r.encoding).toBe('UTF-16 LE (converted)');
    expect(r.pairs[1]!.answer).toBe('Freude, schöner Götterfunken!');
    const be = Buffer.from(Buffer.from(text, 'utf16le')).swap16();
    expect(decodeText(Buffer.concat([Buffer.from([0xfe, 0xff]), be])).text).toBe(text);
  });

  it('recognises UTF-16 without a byte-order mark and drops a UTF-8 one', () => {
    expect(decodeText(Buffer.from(text, 'utf16le')).encoding).toBe(
      'UTF-16 LE without a byte-order mark (converted)',
    );
    const bom = decodeText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
    expect(bom).toEqual({ text, encoding: 'UTF-8 with a byte-order mark' });
  });

  it('converts UTF-32 and refuses text that is not UTF-8, naming the line', () => {
    const u32 = Buffer.from([0xff, 0xfe, 0, 0, 0x7b, 0, 0, 0]);
    expect(decodeText(u32, 'x.jsonl')).toEqual({ text: '{', encoding: 'UTF-32 LE (converted)' });
    const latin1 = Buffer.concat([
      Buffer.from(`${chatLine(Q1, A1)}\n`),
      Buffer.from('{"x": "caf\xe9"}\n', 'latin1'),
    ]);
    const e = errorOf(() => decodeText(latin1, 'l.jsonl'));
    expect(e.message).toMatch(/^l\.jsonl:2: not UTF-8 text/);
    expect(e.detail).toMatchObject({ line: 2 });
  });
});

describe('Character-LLM import, issue #11 item 10', () => {
  const scene = (output: string, source = 'seed_dialogue_1'): string =>
    JSON.stringify({ prompt: 'I want you to act like Beethoven.\nLocation: Vienna\n', output, source });

  it('skips a null line with its number instead of crashing', () => {
    const text = ['null', scene('Karl: Uncle?<|eot|>\nBeethoven: Yes, boy.<|eot|>'), '42'].join('\n');
    const { pairs, stats } = parseCharacterLlm(text, 'Beethoven');
    expect(pairs).toHaveLength(1);
    expect(stats.skipped).toEqual([
      { at: 1, reason: 'not a JSON object (null)' },
      { at: 3, reason: 'not a JSON object (a number)' },
    ]);
  });

  it('reads a UTF-16 file and says it converted it', () => {
    const text = scene('Karl: Uncle?<|eot|>\nBeethoven: Yes, boy.<|eot|>');
    const path = file(
      'utf16.jsonl',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
    );
    const r = importCharacterLlm(path, 'Beethoven');
    expect(r.encoding).toBe('UTF-16 LE (converted)');
    expect(r.pairs).toHaveLength(1);
  });

  it('refuses a chat JSONL file as a whole, naming its layout, instead of "no output field" per line', () => {
    const text = [chatLine(Q1, A1), chatLine(Q2, A2)].join('\n');
    const e = errorOf(() => parseCharacterLlm(text, 'Beethoven', 'chat.jsonl'));
    expect(e.message).toMatch(
      /^chat\.jsonl is not a Character-LLM \(prompted JSONL or generated JSON\) file; it looks like chat JSONL \(messages\)/,
    );
  });

  it('skips thinking turns and answers with the spoken one', () => {
    const output = [
      'Schindler (leaning in): Maestro, will there be voices in the finale?<|eot|>',
      'Beethoven (thinking): He will never understand. Schiller, yes, the Ode, and a chorus',
      'that nobody has dared before.<|eot|>',
      'Beethoven (speaking): Ja! A chorus, the whole of humanity singing!<|eot|>',
    ].join('\n');
    expect(parsePromptedOutput(output)).toEqual([
      { role: 'Schindler', content: 'Maestro, will there be voices in the finale?' },
      { role: 'Beethoven', content: 'Ja! A chorus, the whole of humanity singing!' },
    ]);
    const { pairs, stats } = parseCharacterLlm(scene(output), 'Beethoven');
    expect(pairs.map((p) => p.answer)).toEqual(['Ja! A chorus, the whole of humanity singing!']);
    expect(stats.thinkingTurns).toBe(1);
    const generated = JSON.stringify([
      {
        dialogue: [
          { role: 'Karl', action: '(nervous)', content: 'Are you angry?' },
          { role: 'Beethoven', action: '(thinking)', content: 'The boy lies again.' },
          { role: 'Beethoven', action: '(sighs)', content: 'Angry? I fear for you.' },
        ],
        source: 'gen_1',
      },
    ]);
    expect(parseCharacterLlm(generated, 'Beethoven').pairs.map((p) => p.answer)).toEqual([
      'Angry? I fear for you.',
    ]);
  });
});
