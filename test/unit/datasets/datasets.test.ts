import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { TrainingConfig } from '../../../src-shared/contract';
import {
  auditExamples,
  auditRun,
  distribution,
  exportRunData,
  flagAnswer,
  hasKeyword,
  JsonlError,
  parseCsv,
  parseJsonl,
  readJsonl,
  repetitionShare,
  splitExamples,
  splitRun,
  toCsv,
  trainingConfigYaml,
  writeExamplesBench,
  writeJsonl,
} from '../../../src-main/datasets';
import { openStore } from '../../../src-main/store';

const dir = mkdtempSync(join(tmpdir(), 'datasets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LONG = (extra: string): string =>
  `Ach, my friend, the symphony came to me on a long walk through the Vienna woods, where the birds and the storm taught me more than any teacher. ${extra}`;

describe('JSONL', () => {
  it('reports a broken line by number and keeps the others', () => {
    const r = parseJsonl<{ a: number }>('{"a":1}\n\n{"a":2\n{"a":3}\n');
    expect(r.rows).toEqual([{ a: 1 }, { a: 3 }]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.line).toBe(3);
  });

  it('throws a typed error naming the line in strict mode', () => {
    let caught: unknown;
    try {
      parseJsonl('{"a":1}\nnope\n', { strict: true, path: 'x.jsonl' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(JsonlError);
    expect((caught as JsonlError).detail.line).toBe(2);
    expect((caught as JsonlError).message).toContain('x.jsonl:2');
  });

  it('applies a row validator and round-trips files', () => {
    const path = join(dir, 'rows.jsonl');
    writeJsonl(path, [{ q: 'a' }, { x: 1 }]);
    const r = readJsonl(path, {
      validate: (v) => (typeof (v as { q?: unknown }).q === 'string' ? null : 'missing q'),
    });
    expect(r.rows).toEqual([{ q: 'a' }]);
    expect(r.errors).toEqual([{ line: 2, message: 'missing q' }]);
  });
});

describe('CSV', () => {
  it('quotes commas, quotes and newlines, and parses back', () => {
    const text = toCsv(
      ['a', 'b'],
      [
        ['x,y', 'say "hi"'],
        ['line\nbreak', null],
      ],
    );
    expect(text).toBe('\uFEFFa,b\r\n"x,y","say ""hi"""\r\n"line\nbreak",\r\n');
    expect(parseCsv(text)).toEqual([
      ['a', 'b'],
      ['x,y', 'say "hi"'],
      ['line\nbreak', ''],
    ]);
  });

  it('opens safely in spreadsheets: a BOM, and text that looks like a formula kept as text', () => {
    const text = toCsv(
      ['answer', 'n'],
      [
        ['- I composed the Ninth', -1.5],
        ['=HYPERLINK("x")', 2],
        ['@me', 0],
      ],
    );
    expect(text.startsWith('\uFEFF')).toBe(true);
    expect(parseCsv(text)).toEqual([
      ['answer', 'n'],
      ["'- I composed the Ninth", '-1.5'], // numbers stay numbers
      ['\'=HYPERLINK("x")', '2'],
      ["'@me", '0'],
    ]);
  });
});

describe('audit filters', () => {
  const opts = { keywords: ['music', 'symphony', 'compose'] };
  it('flags each kind of bad answer', () => {
    expect(flagAnswer('', opts)).toEqual(['empty']);
    expect(flagAnswer('Ja!', opts)).toContain('too_short');
    expect(flagAnswer(LONG('x '.repeat(450)), opts)).toContain('too_long');
    expect(
      flagAnswer(
        LONG(
          'and then the music and then the music and then the music and then the music and then the music',
        ),
        opts,
      ),
    ).toContain('repetition_loop');
    expect(flagAnswer(LONG('User: what next? Assistant: more music.'), opts)).toContain('role_contamination');
    expect(flagAnswer(LONG('<|im_start|>assistant'), opts)).toContain('role_contamination');
    expect(
      flagAnswer(
        '{"answer": "the symphony came to me on a long walk through the woods, where the birds and the storm taught me more than any teacher"}',
        opts,
      ),
    ).toContain('json_wrapped');
    expect(flagAnswer(LONG('But as an AI language model I cannot have feelings.'), opts)).toContain(
      'out_of_character_refusal',
    );
    expect(flagAnswer(LONG("I'm an AI and cannot role-play Beethoven."), opts)).toContain(
      'out_of_character_refusal',
    );
    expect(flagAnswer(LONG('Freude! That is all.'), opts)).toEqual([]);
  });

  it('measures repetition and keyword presence', () => {
    expect(repetitionShare('one two three one two three one two three one two three')).toBe(1);
    expect(repetitionShare('a quiet varied sentence with no loops in it at all whatsoever')).toBe(0);
    expect(hasKeyword('I composed it in Vienna', ['compose'])).toBe(true);
    expect(hasKeyword('decomposed leaves', ['compose'])).toBe(false);
  });

  it('computes the distribution', () => {
    expect(distribution([1, 2, 3, 4])).toEqual({ mean: 2.5, median: 2.5, std: 1.118, min: 1, max: 4 });
    expect(distribution([])).toEqual({ mean: 0, median: 0, std: 0, min: 0, max: 0 });
  });

  it('flags later duplicates, keeps the first, and summarises', () => {
    const a = LONG('The Eroica was born of hope.');
    const examples = [
      { id: 1, category: 'composition', answer: a },
      { id: 2, category: 'composition', answer: a.toUpperCase() },
      { id: 3, category: 'philosophy', answer: `Maestro says: ${a}` },
      { id: 4, category: 'philosophy', answer: 'Too short.' },
      {
        id: 5,
        category: 'biographical',
        answer:
          'Bonn was my cradle and my father a hard teacher at the keyboard; I left for good in 1792, carrying little but ambition and a letter from Waldstein.',
      },
    ];
    const { results, summary } = auditExamples(examples, opts);
    expect(results.map((r) => r.flags)).toEqual([[], ['duplicate'], ['near_duplicate'], ['too_short'], []]);
    expect(results.map((r) => r.kept)).toEqual([true, false, false, false, true]);
    expect(summary).toMatchObject({
      total: 5,
      kept: 2,
      exactDuplicates: 1,
      nearDuplicates: 1,
      flagged: { duplicate: 1, near_duplicate: 1, too_short: 1 },
      categories: { composition: 1, biographical: 1 },
      keywordPresence: 0.5,
    });
    expect(summary.length.min).toBe(2);
  });
});

describe('split', () => {
  it('is seeded, exact in size, and stratified by category', () => {
    const ex = Array.from({ length: 100 }, (_, i) => ({ id: i + 1, category: i < 70 ? 'a' : 'b' }));
    const s1 = splitExamples(ex, { seed: 5 });
    expect(splitExamples(ex, { seed: 5 })).toEqual(s1);
    expect(splitExamples(ex, { seed: 6 })).not.toEqual(s1);
    const val = s1.filter((s) => s.split === 'val').map((s) => s.exampleId);
    expect(val).toHaveLength(10);
    expect(val.filter((id) => id <= 70)).toHaveLength(7);
    expect(splitExamples(ex, { seed: 5, valSize: 3 }).filter((s) => s.split === 'val')).toHaveLength(3);
  });
});

const CONFIG: TrainingConfig = {
  baseModel: 'default',
  objective: 'sft',
  kdWeight: 0,
  loraR: 32,
  loraAlpha: 64,
  loraDropout: 0.05,
  targetModules: ['q_proj', 'v_proj'],
  learningRate: 1e-4,
  warmupSteps: 10,
  schedule: 'linear',
  batchSize: 8,
  gradAccum: 2,
  maxSteps: 100,
  maxLength: 512,
  evalEvery: 20,
  saveEvery: 50,
  seed: 3,
};

describe('run data through the store', () => {
  it('audits, splits kept non-held-out examples only, and writes chat-format files without a system message', () => {
    const store = openStore(':memory:');
    const run = store.runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'smoke', dir });
    const n = 40;
    store.questions.insertMany(
      run.id,
      Array.from({ length: n }, (_, i) => ({
        id: i + 1,
        category: i % 2 ? 'a' : 'b',
        text: `Q${i}?`,
        heldout: i >= 36,
        template: null,
      })),
    );
    store.examples.insertMany(
      run.id,
      Array.from({ length: n }, (_, i) => ({
        questionId: i + 1,
        answer:
          i === 0
            ? 'Nein.'
            : LONG(
                `Number ${i} in the catalogue is the ${['first', 'second', 'third', 'fourth', 'fifth'][i % 5]} of its kind, written in ${1790 + i} and revised in ${1800 + i}.`,
              ),
        promptTokens: 600,
        completionTokens: 50,
        provider: 'test',
        model: 'tiny',
        latencyMs: 1,
      })),
    );
    const summary = auditRun(store, run.id, { keywords: ['symphony'] });
    expect(summary.total).toBe(n);
    expect(summary.kept).toBe(n - 1);
    expect(store.audit.summary(run.id)).toEqual(summary);
    const counts = splitRun(store, run.id, { seed: 1 });
    expect(counts.train + counts.val).toBe(n - 1 - 4); // minus the short one and 4 held-out
    expect(counts.val).toBe(4);
    const out = join(dir, 'run');
    const files = exportRunData(store, run.id, out);
    const train = readJsonl<{ messages: { role: string; content: string }[] }>(files.trainPath, {
      strict: true,
    }).rows;
    expect(train).toHaveLength(counts.train);
    for (const row of train) {
      expect(row.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    }
    const teacher = readJsonl<{ flags: string[]; question_id: number }>(files.teacherPath).rows;
    expect(teacher).toHaveLength(n);
    expect(teacher.find((r) => r.question_id === 1)!.flags).toEqual(['too_short']);
    expect(readFileSync(files.valPath, 'utf8')).not.toContain('"system"');
  });

  it('writes training_config.yaml', () => {
    const doc = parseYaml(
      trainingConfigYaml(CONFIG, { trainFile: 'train.jsonl', valFile: 'val.jsonl' }),
    ) as Record<string, Record<string, unknown>>;
    expect(doc.model).toMatchObject({ lora_rank: 32, lora_alpha: 64 });
    expect(doc.training).toMatchObject({
      learning_rate: 1e-4,
      max_steps: 100,
      gradient_accumulation_steps: 2,
    });
    expect(doc.data).toMatchObject({ train_file: 'train.jsonl', max_seq_length: 512 });
    expect(doc.checkpointing).toMatchObject({ save_every: 50, eval_every: 20 });
  });

  it('bench helper writes, audits, splits and exports 5000 examples', () => {
    const r = writeExamplesBench(5000);
    expect(r.n).toBe(5000);
    expect(r.bytes).toBeGreaterThan(100_000);
    expect(r.insertMs).toBeGreaterThan(0);
  });
});
