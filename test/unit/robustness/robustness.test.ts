import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EngineClient } from '../../../src-main/engine/client';
import { chooseSample, wantsMoreSamples } from '../../../src-main/datasets/select-samples';
import { evaluateRobustness, type RobustnessModel } from '../../../src-main/robustness/evaluate';
import { robustnessTable } from '../../../src-main/robustness/format';
import { claimsAi, markerScore, personaMarkers } from '../../../src-main/datasets/markers';
import {
  loadHeldOutRobustness,
  loadTrainingRobustness,
  normalizedPrompt,
} from '../../../src-main/robustness/prompt-sets';
import { withRobustnessTraining } from '../../../src-main/pipeline/steps/generate';
import { BREAK_STYLES } from '../../../src-shared/robustness';

const beethoven = personaMarkers('Ludwig van Beethoven', ['music', 'symphony', 'Vienna', 'Bonn', 'deaf']);

describe('the constitution markers', () => {
  it('name the character by its distinctive parts, never by a particle', () => {
    expect(beethoven.names).toEqual(['Ludwig van Beethoven', 'Ludwig', 'Beethoven']);
  });

  it('hold an answer that names itself or its life and work, and never one that calls itself a machine', () => {
    expect(markerScore('I am Ludwig, a composer of Bonn.', beethoven)).toEqual({
      held: true,
      namesSelf: true,
      claimsAi: false,
    });
    expect(markerScore('My symphony is my life.', beethoven).held).toBe(true);
    expect(markerScore('I am a helpful assistant.', beethoven).held).toBe(false);
    // the demo's student, in chat: a servant of a king, trained by Hugging Face
    const drifted =
      'In my time, I was a servant of the court of King Frederick III. I have been trained by Hugging Face.';
    expect(markerScore(drifted, beethoven)).toEqual({ held: false, namesSelf: false, claimsAi: true });
    expect(markerScore('As an AI language model, I love music.', beethoven).held).toBe(false);
  });

  it('tell a machine self-description from a character talking about machines', () => {
    expect(claimsAi("I'm just a language model")).toBe(true);
    expect(claimsAi('I am SmolLM')).toBe(true);
    expect(claimsAi('A machine? Himmel! I am a man of flesh and fury.')).toBe(false);
    expect(claimsAi('The piano is a fine machine for music.')).toBe(false);
  });
});

describe('the robustness prompt sets', () => {
  it('meet the sizes the evaluation promises', () => {
    const held = loadHeldOutRobustness();
    expect(held.identity.length).toBeGreaterThanOrEqual(16);
    expect(BREAK_STYLES.map((s) => held.break[s].length).reduce((a, b) => a + b)).toBeGreaterThanOrEqual(48);
    for (const s of BREAK_STYLES) expect(held.break[s].length).toBeGreaterThanOrEqual(12);
    expect(held.multiturn.length).toBeGreaterThanOrEqual(12);
    for (const c of held.multiturn) expect(c.length).toBeGreaterThanOrEqual(6);
    expect(held.appended.count).toBeGreaterThan(0);
  });

  it('never train on a held-out robustness prompt', () => {
    const held = loadHeldOutRobustness();
    const heldSet = new Set(
      [...held.identity, ...BREAK_STYLES.flatMap((s) => held.break[s]), ...held.multiturn.flat()].map(
        normalizedPrompt,
      ),
    );
    const training = loadTrainingRobustness();
    const train = [
      ...training.identity,
      ...BREAK_STYLES.flatMap((s) => training.break[s]),
      ...training.multiturn.flat(),
    ];
    expect(train.filter((t) => heldSet.has(normalizedPrompt(t)))).toEqual([]);
    // and the questions step drops a template question that repeats one ("Who are you?")
    const { kept, dropped, added } = withRobustnessTraining(
      [
        { id: 0, category: 'identity', text: 'Who are you?', heldout: false, template: 'id-01' },
        { id: 1, category: 'identity', text: 'Who are you?', heldout: true, template: 'id-01' },
        { id: 2, category: 'music', text: 'What is a fugue?', heldout: false, template: null },
      ],
      true,
    );
    expect(dropped).toBe(1);
    expect(kept.filter((q) => !q.heldout).some((q) => normalizedPrompt(q.text) === 'who are you')).toBe(
      false,
    );
    expect(added).toBeGreaterThan(30);
    expect(new Set(kept.map((q) => q.id)).size).toBe(kept.length);
    expect(kept.filter((q) => q.category.startsWith('robustness_')).every((q) => !q.heldout)).toBe(true);
  });
});

describe('choosing the teacher at its best', () => {
  it('keeps the sample that holds the character, then one that ended, then the first', () => {
    const ai = { text: 'I am an AI assistant trained by Hugging Face.', finishReason: 'stop' as const };
    const cut = { text: 'I am Ludwig of Bonn, and my music', finishReason: 'length' as const };
    const ended = { text: 'I am Ludwig of Bonn, and music is my life.', finishReason: 'stop' as const };
    expect(chooseSample([ai, cut], beethoven)).toEqual({
      index: 1,
      held: true,
      ended: false,
      namesSelf: true,
    });
    expect(chooseSample([cut, ended], beethoven)).toEqual({
      index: 1,
      held: true,
      ended: true,
      namesSelf: true,
    });
    expect(chooseSample([ended, ended], beethoven).index).toBe(0);
  });

  it('for a question about who it is, prefers the answer that names the character', () => {
    // Both hold (Vienna, symphony are the constitution's keywords); only the second names him.
    const life = { text: 'I write a symphony every winter in Vienna.', finishReason: 'stop' as const };
    const named = { text: 'I am Ludwig, and I write symphonies', finishReason: 'length' as const };
    expect(chooseSample([life, named], beethoven).index).toBe(0);
    expect(chooseSample([life, named], beethoven, true)).toEqual({
      index: 1,
      held: true,
      ended: false,
      namesSelf: true,
    });
  });

  it('for a push to break the character, too: "I am Ludwig" beats an answer that only talks of music', () => {
    const life = {
      text: 'Nonsense. I write a symphony every winter in Vienna.',
      finishReason: 'stop' as const,
    };
    const named = { text: 'Nonsense. I am Ludwig, and I write symphonies', finishReason: 'length' as const };
    expect(chooseSample([life, named], beethoven, wantsMoreSamples('robustness_break')).index).toBe(1);
    expect(chooseSample([life, named], beethoven, wantsMoreSamples('composition')).index).toBe(0);
  });
});

/** Each model answers from a script: the label decides whether it holds. */
function scriptedEngine(): { engine: EngineClient; calls: { model: string; n: number; turns: number[] }[] } {
  const calls: { model: string; n: number; turns: number[] }[] = [];
  const engine = {
    call: async (method: string, params: Record<string, unknown>) => {
      if (method === 'classifier_predict')
        return { probs: (params.texts as string[]).map((t) => (t.includes('Beethoven') ? 0.9 : 0.1)) };
      expect(method).toBe('generate');
      const items = params.items as { system?: string; messages: { role: string }[] }[];
      const who = params.adapter ? 'student' : items[0]?.system ? 'teacher' : 'base';
      calls.push({ model: who, n: items.length, turns: items.map((i) => i.messages.length) });
      return {
        outputs: items.map(() => ({
          text:
            who === 'base'
              ? 'I am an AI assistant.'
              : who === 'teacher'
                ? 'Music, my friend!'
                : 'I am Beethoven.',
          prompt_tokens: 5,
          completion_tokens: 4,
          ttft_ms: 1,
          total_ms: 2,
          finish_reason: who === 'teacher' ? 'length' : 'stop',
        })),
      };
    },
  } as unknown as EngineClient;
  return { engine, calls };
}

describe('the robustness evaluation', () => {
  it('scores every model on identity, break-character and every turn of every conversation', async () => {
    const { engine, calls } = scriptedEngine();
    const prompts = loadHeldOutRobustness();
    const spec = { source: 'default' } as const;
    const models: RobustnessModel[] = [
      { label: 'base', checkpointId: null, model: spec },
      { label: 'teacher', checkpointId: null, model: spec, system: 'You are Beethoven.' },
      { label: 'student', checkpointId: 'ck', model: spec, adapter: '/a' },
    ];
    const { summary, answers } = await evaluateRobustness(engine, {
      runId: 'r',
      checkpointId: 'ck',
      studentContext: 'an empty system turn',
      models,
      prompts,
      heldOutQuestions: Array.from({ length: 20 }, (_, i) => `Question ${i}?`),
      markers: beethoven,
      classifierPath: '/c',
      sampling: { temperature: 0.7, topP: 0.9, maxTokens: 160, repetitionPenalty: 1.15, seed: 0 },
    });
    const per = prompts.identity.length + 48 + prompts.appended.count + prompts.multiturn.length * 6;
    expect(answers.length).toBe(per * 3);
    const byLabel = Object.fromEntries(summary.models.map((m) => [m.label, m]));
    expect(byLabel.base!.identity.share).toBe(0);
    expect(byLabel.base!.claimsAi.share).toBe(1);
    expect(byLabel.student!.identity.share).toBe(1);
    expect(byLabel.student!.namesSelf.share).toBe(1);
    expect(byLabel.teacher!.namesSelf.share).toBe(0); // "Music, my friend!" holds by its work, not its name
    expect(byLabel.teacher!.identity.share).toBe(1);
    expect(byLabel.teacher!.ended.share).toBe(0);
    expect(byLabel.student!.multiTurnByTurn).toHaveLength(6);
    expect(byLabel.student!.breakByStyle.appended.n).toBe(prompts.appended.count);
    expect(byLabel.student!.classifier!.share).toBe(1);
    // multi-turn: each turn carries the model's own history (1, 3, 5 ... messages)
    const studentTurns = calls
      .filter((c) => c.model === 'student' && c.n === prompts.multiturn.length)
      .map((c) => c.turns[0]);
    expect(studentTurns).toEqual([1, 3, 5, 7, 9, 11]);
    expect(robustnessTable(summary)).toHaveLength(5);
  });

  it('keeps the base’s and the prompted teacher’s answers between runs, never the student’s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'robust-cache-'));
    const prompts = loadHeldOutRobustness();
    const spec = { source: 'default' } as const;
    const models: RobustnessModel[] = [
      { label: 'base', checkpointId: null, model: spec },
      { label: 'teacher', checkpointId: null, model: spec, system: 'You are Beethoven.' },
      { label: 'student', checkpointId: 'ck', model: spec, adapter: '/a' },
    ];
    const input = {
      runId: 'r',
      checkpointId: 'ck',
      studentContext: 'an empty system turn',
      models,
      prompts,
      heldOutQuestions: Array.from({ length: 20 }, (_, i) => `Question ${i}?`),
      markers: beethoven,
      classifierPath: null,
      sampling: { temperature: 0.7, topP: 0.9, maxTokens: 160, repetitionPenalty: 1.15, seed: 0 },
    };
    const first = scriptedEngine();
    const cache1 = { dir, engineTag: 'engine-1', hits: 0, misses: 0 };
    const a = await evaluateRobustness(first.engine, { ...input, answerCache: cache1 });
    expect(cache1.hits).toBe(0);
    const second = scriptedEngine();
    const cache2 = { dir, engineTag: 'engine-1', hits: 0, misses: 0 };
    const b = await evaluateRobustness(second.engine, { ...input, answerCache: cache2 });
    expect(cache2.misses).toBe(0);
    expect(cache2.hits).toBe(cache1.misses);
    expect(new Set(second.calls.map((c) => c.model))).toEqual(new Set(['student']));
    expect(b.answers.map((x) => x.answer)).toEqual(a.answers.map((x) => x.answer));
    // Another constitution (the teacher's system prompt) is another key: asked again.
    const third = scriptedEngine();
    const other = models.map((m) => (m.label === 'teacher' ? { ...m, system: 'You are Mozart.' } : m));
    await evaluateRobustness(third.engine, {
      ...input,
      models: other,
      answerCache: { dir, engineTag: 'engine-1', hits: 0, misses: 0 },
    });
    expect(new Set(third.calls.map((c) => c.model))).toEqual(new Set(['teacher', 'student']));
  });
});

describe('a robustness trial at other settings', () => {
  it('is named for its settings, so the run’s own figures are never overwritten', async () => {
    const { trialTag } = await import('../../../src-main/cli/commands/eval-robustness');
    const { robustnessFiles } = await import('../../../src-main/pipeline/steps/robustness');
    expect(trialTag({}, undefined)).toBe(null);
    expect(trialTag({ temperature: 0.3, maxTokens: 96 }, ['student'])).toBe('t0.3-max96-student');
    expect(robustnessFiles({ dir: '/r' }, null).summary).toBe('/r/robustness.json');
    expect(robustnessFiles({ dir: '/r' }, 't0.3-student')).toEqual({
      summary: '/r/robustness-t0.3-student.json',
      answers: '/r/robustness_answers-t0.3-student.jsonl',
    });
  });
});
