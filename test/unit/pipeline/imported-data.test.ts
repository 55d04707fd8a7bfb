/**
 * Runs on imported data (issue #10 item 7, `pipeline --data FILE`): the imported pairs become
 * the run's questions (a held-out share kept for evaluation) and, used as teacher data, its
 * teacher examples, with no teacher asked; a stored config without imported data still parses.
 * The real step table runs questions -> generate -> audit -> split; the engine is a stub that
 * fails the test if a teacher is asked when it should not be.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, InputError, PipelineError } from '../../../src-main/core/errors';
import { defaultRunConfig, parseRunConfig } from '../../../src-main/core/run-config';
import { MemorySettingsStore } from '../../../src-main/core/settings';
import type { EngineClient } from '../../../src-main/engine/client';
import { main } from '../../../src-main/cli/main';
import { createRun } from '../../../src-main/runs/create-run';
import { estimateStep } from '../../../src-main/runs/estimate';
import {
  checkImportedData,
  IMPORTED_DATA_FILE,
  readImportedSource,
  selectImported,
} from '../../../src-main/pipeline/recipes/imported';
import { openStudio, type Studio } from '../../../src-main/studio/studio';

let dir: string;
let studio: Studio;
let teacherCalls: number;

const answer = (i: number): string =>
  `Ach, question ${i}! The symphony ${i} came to me on a walk through the Vienna woods, where the storm and the birds taught me more than any teacher ever did, number ${i} of them all.`;

function chatFile(n: number, opts: { thinkingAt?: number; repeatQuestion?: boolean } = {}): string {
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      messages: [
        { role: 'system', content: 'You are Beethoven.' },
        {
          role: 'user',
          content: opts.repeatQuestion && i < 2 ? 'Who are you?' : `Question number ${i + 1}?`,
        },
        {
          role: 'assistant',
          content: i + 1 === opts.thinkingAt ? `<think>Be grumpy.</think> ${answer(i + 1)}` : answer(i + 1),
        },
      ],
    }),
  );
  const path = join(dir, `data-${n}.jsonl`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'imported-run-'));
  teacherCalls = 0;
  // A local teacher that answers "teacher says: <question>"; counts its calls.
  const engine = {
    call: async (method: string, params: { items?: { messages: { content: string }[] }[] }) => {
      if (method !== 'generate') throw new Error(`unexpected engine call ${method}`);
      teacherCalls += 1;
      return {
        outputs: (params.items ?? []).map((it) => ({
          text: `teacher says: ${it.messages[0]?.content ?? ''}`,
          prompt_tokens: 10,
          completion_tokens: 5,
          total_ms: 1,
          ttft_ms: 1,
          finish_reason: 'stop',
        })),
      };
    },
  } as unknown as EngineClient;
  studio = await openStudio({ dataDir: dir, settings: new MemorySettingsStore({ dataDir: dir }), engine });
});

afterEach(async () => {
  await studio.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the run config', () => {
  it('parses a stored config without imported data, and one with it', () => {
    const stored = JSON.parse(JSON.stringify(defaultRunConfig('smoke', 'Beethoven'))) as Record<
      string,
      unknown
    >;
    expect(parseRunConfig(stored, 'r1')).not.toHaveProperty('importedData');
    const importedData = { path: '/x/data.jsonl', format: 'chat', use: 'teacher', character: null };
    expect(parseRunConfig({ ...stored, importedData }, 'r1').importedData).toEqual(importedData);
    expect(() => parseRunConfig({ ...stored, importedData: { ...importedData, use: 'both' } }, 'r1')).toThrow(
      /importedData\.use must be one of teacher, questions/,
    );
  });

  it('refuses imported data with the good-pairs recipe, and kd on imported answers', () => {
    const { config } = checkImportedData(chatFile(8), { use: 'teacher' });
    expect(() =>
      createRun(studio, {
        personaId: 'beethoven',
        scale: 'smoke',
        recipe: 'good-pairs',
        importedData: config,
      }),
    ).toThrow(ConfigError);
    expect(() =>
      createRun(studio, {
        personaId: 'beethoven',
        scale: 'smoke',
        importedData: config,
        training: { objective: 'kd' },
      }),
    ).toThrow(/imported answers do not have/);
  });

  it('checks the file when the run is created: too few pairs, or a malformed file with its line', () => {
    expect(() => checkImportedData(chatFile(3), { use: 'teacher' })).toThrow(PipelineError);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '[\n {"instruction": "a", "output": "b"},\n {oops}\n]');
    expect(() => checkImportedData(bad, { use: 'teacher' })).toThrow(InputError);
  });
});

describe('a run whose teacher data is imported', () => {
  it('takes the questions and answers from the file, holds some out, and asks no teacher', async () => {
    const file = chatFile(20, { thinkingAt: 3 });
    const { config } = checkImportedData(file, { use: 'teacher' });
    expect(config).toEqual({ path: file, format: 'chat', use: 'teacher', character: null });
    let run = createRun(studio, { personaId: 'beethoven', scale: 'smoke', importedData: config });
    expect(studio.store.runs.require(run.id).config.importedData).toEqual(config);
    expect(estimateStep(studio, run, 'generate')).toMatchObject({ tokens: 0, costUsd: 0 });

    for (const step of ['questions', 'generate'] as const) run = await studio.runner.runStep(run.id, step);
    const sc = run.config.scaleConfig;
    const questions = studio.store.questions.listByRun(run.id);
    expect(questions).toHaveLength(Math.min(20, sc.questions));
    const held = questions.filter((q) => q.heldout);
    expect(held.length).toBe(Math.max(1, Math.round((questions.length * sc.heldOut) / sc.questions)));
    expect(questions.every((q) => q.category === 'imported' && q.template?.startsWith('import:line '))).toBe(
      true,
    );

    const examples = studio.store.examples.listByRun(run.id);
    expect(teacherCalls).toBe(0);
    expect(examples).toHaveLength(questions.length);
    for (const e of examples) {
      const n = Number(/Question number (\d+)\?/.exec(e.question)?.[1]);
      expect(e.answer).toBe(answer(n));
    }
    expect(examples.find((e) => e.question === 'Question number 3?')?.thinking).toBe(true);
    expect(existsSync(join(run.dir, IMPORTED_DATA_FILE))).toBe(true);
    // Where the data came from, for the report (issue 18 #11): the original path and its hash.
    expect(readImportedSource(run.dir)).toEqual({
      path: file,
      sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
      bytes: readFileSync(file).length,
      format: 'chat',
      layout: expect.any(String) as string,
      use: 'teacher',
      pairs: 20,
      taken: questions.length,
      heldOut: held.length,
      skipped: 0,
    });

    run = await studio.runner.runStep(run.id, 'audit');
    expect(studio.store.audit.summary(run.id)?.flagged).toEqual({ thinking: 1 });
    run = await studio.runner.runStep(run.id, 'split');
    const counts = studio.store.splits.counts(run.id);
    expect(counts.train + counts.val).toBe(questions.length - held.length);
    const train = readFileSync(join(run.dir, 'train.jsonl'), 'utf8');
    for (const q of held) expect(train).not.toContain(JSON.stringify(q.text));
    expect(train).not.toContain('"system"');
  });

  it('holds out only questions asked once, and resumes from its own copy if the file changes', async () => {
    const file = chatFile(12, { repeatQuestion: true });
    const { config } = checkImportedData(file, { use: 'teacher' });
    let run = createRun(studio, { personaId: 'beethoven', scale: 'smoke', importedData: config });
    run = await studio.runner.runStep(run.id, 'questions');
    const held = studio.store.questions.listByRun(run.id, { heldout: true });
    expect(held.some((q) => q.text === 'Who are you?')).toBe(false);
    writeFileSync(file, ''); // the file changes after the questions step: the run's copy is used
    run = await studio.runner.runStep(run.id, 'generate');
    expect(studio.store.examples.countByRun(run.id)).toBe(12);
  });
});

describe('multi-turn conversations (issue 18 #12)', () => {
  it('never holds out a later turn on its own: its question leans on the conversation before it', () => {
    const pairs = Array.from({ length: 40 }, (_, i) => ({
      question: i % 2 ? `Did you find it yourself? (${i})` : `Where did you find the manuscript ${i}?`,
      answer: `Answer ${i}.`,
      source: `line ${Math.floor(i / 2) + 1}${i % 2 ? ', turn 2' : ''}`,
      ...(i % 2
        ? {
            history: [
              { role: 'user' as const, content: `Where did you find the manuscript ${i - 1}?` },
              { role: 'assistant' as const, content: `Answer ${i - 1}.` },
            ],
          }
        : {}),
    }));
    for (const seed of [1, 2, 3, 7]) {
      const rows = selectImported(pairs, 40, 10, seed);
      const held = rows.filter((r) => r.heldout);
      expect(held).toHaveLength(10);
      expect(held.every((r) => !r.history && !r.question.startsWith('Did you find it'))).toBe(true);
      expect(rows.find((r) => r.question.startsWith('Did you find it'))?.history).toHaveLength(2);
    }
  });
});

describe('a run that imports only the questions', () => {
  it('asks the teacher for the answers', async () => {
    const { config } = checkImportedData(chatFile(6), { use: 'questions' });
    let run = createRun(studio, { personaId: 'beethoven', scale: 'smoke', importedData: config });
    for (const step of ['questions', 'generate'] as const) run = await studio.runner.runStep(run.id, step);
    expect(teacherCalls).toBeGreaterThan(0);
    const examples = studio.store.examples.listByRun(run.id);
    expect(examples).toHaveLength(6);
    expect(examples.every((e) => e.answer === `teacher says: ${e.question}`)).toBe(true);
  });
});

describe('character pipeline --data', () => {
  it('refuses a malformed file before creating a run, naming the line', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, `${JSON.stringify({ foo: 1 })}\n`);
    let err = '';
    const sink = (
      f: (s: string) => void,
    ): { write: (s: string) => boolean; isTTY: boolean; columns: number } => ({
      isTTY: false,
      columns: 100,
      write: (s: string) => {
        f(s);
        return true;
      },
    });
    const saved = process.env.CHARACTER_STUDIO_HOME;
    process.env.CHARACTER_STUDIO_HOME = join(dir, 'home');
    try {
      const code = await main(['pipeline', 'beethoven', '--scale', 'smoke', '--data', bad], {
        stdout: sink(() => undefined),
        stderr: sink((s) => (err += s)),
      });
      expect(code).toBe(1);
      expect(err).toContain(`${bad}:1: cannot tell the layout`);
      const runs = join(dir, 'home', 'runs');
      expect(existsSync(runs) ? readdirSync(runs) : []).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.CHARACTER_STUDIO_HOME;
      else process.env.CHARACTER_STUDIO_HOME = saved;
    }
  });
});
