import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineClient } from '../../../src-main/engine/client';
import { characterDefaults } from '../../../src-main/core/character-options';
import {
  INTERACTIONS_FILE,
  INTROSPECTION_PROMPTS,
  interactionRows,
  interactionTurnRows,
  introspectionData,
  introspectionSummary,
  speakerView,
  type Interaction,
  type IntrospectionInput,
} from '../../../src-main/pipeline/recipes/introspection';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface GenerateParams {
  adapter: string;
  items: { system: string; messages: { role: string; content: string }[] }[];
}

/** An engine that answers every item with a distinct sentence; answers listed in `bad` loop. */
function fakeEngine(bad: (call: number, index: number) => boolean): {
  engine: EngineClient;
  calls: GenerateParams[];
} {
  const calls: GenerateParams[] = [];
  const engine = {
    call: async (method: string, params: GenerateParams) => {
      expect(method).toBe('generate');
      calls.push(params);
      const n = calls.length;
      return {
        outputs: params.items.map((_, i) => ({
          text: bad(n, i)
            ? 'the same the same the same the same the same the same the same the same'
            : `Answer ${n}-${i}: music is my life and I speak of it with passion every day.`,
        })),
      };
    },
  } as unknown as EngineClient;
  return { engine, calls };
}

function input(engine: EngineClient, dir: string, turns = 10): IntrospectionInput {
  return {
    engine,
    model: { source: 'default' as const },
    adapter: '/dpo/adapter',
    system: 'CONSTITUTION',
    characterName: 'Beethoven',
    options: {
      ...characterDefaults('smoke'),
      reflectionSamples: 2,
      interactions: 3,
      interactionTurns: turns,
    },
    sampling: { temperature: 0.7, top_p: 0.95, max_new_tokens: 32, seed: 7 },
    batchSize: 8,
    audit: { keywords: ['music'], minWords: 3, maxWords: 400 },
    dir,
    signal: new AbortController().signal,
    progress: () => undefined,
  };
}

describe('self-interaction transcripts', () => {
  it('give each speaker its own turns as the assistant’s', () => {
    const turns = [
      { role: 'A' as const, content: 'a1' },
      { role: 'B' as const, content: 'b1' },
      { role: 'A' as const, content: 'a2' },
    ];
    expect(speakerView('open', turns, 'A').map((m) => `${m.role}:${m.content}`)).toEqual([
      'user:open',
      'assistant:a1',
      'user:b1',
      'assistant:a2',
    ]);
    expect(speakerView('open', turns, 'B').map((m) => `${m.role}:${m.content}`)).toEqual([
      'user:a1',
      'assistant:b1',
      'user:a2',
    ]);
    const x: Interaction = {
      topic: 't',
      prompt: 'open',
      conversation: turns.map((t) => ({ ...t, flags: [] })),
      keptTurns: 3,
    };
    const rows = interactionRows(x);
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r.messages[r.messages.length - 1]?.role).toBe('assistant');
    expect(interactionRows({ ...x, keptTurns: 1 })).toHaveLength(1); // B has no turn of its own yet
  });
});

describe('introspection data from the DPO checkpoint', () => {
  it('generates reflections and 10-turn conversations, filters them and keeps the reasons', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-intro-'));
    dirs.push(dir);
    // Calls 1-3: 20 reflections in batches of 8; call 4 + t: turn t of the conversations. The
    // second conversation loops at its 4th turn (t = 3).
    const { engine, calls } = fakeEngine((call, i) => call === 7 && i === 1);
    const data = await introspectionData(input(engine, dir));
    expect(data.reflections).toHaveLength(INTROSPECTION_PROMPTS.length * 2);
    expect(data.interactions).toHaveLength(3);
    for (const x of data.interactions) {
      expect(x.conversation).toHaveLength(10);
      expect(x.conversation.map((t) => t.role).join('')).toBe('ABABABABAB');
    }
    // Every call came from the DPO adapter with the constitution.
    for (const c of calls) {
      expect(c.adapter).toBe('/dpo/adapter');
      for (const it of c.items) expect(it.system.startsWith('CONSTITUTION')).toBe(true);
    }
    const looped = data.interactions[1]!;
    expect(looped.conversation[3]?.flags).toContain('repetition_loop');
    expect(looped.keptTurns).toBe(3);
    expect(data.interactions[0]!.keptTurns).toBe(10);
    expect(data.filtered.repetition_loop).toBe(1);
    expect(data.filtered.after_flagged_turn).toBe(6);
    // 20 reflections + two speakers x 3 conversations.
    expect(data.rows).toHaveLength(20 + 6);
    const saved = readFileSync(join(dir, INTERACTIONS_FILE), 'utf8').trim().split('\n');
    expect(saved).toHaveLength(3);

    // A resumed run reads the files back instead of generating again.
    const again = fakeEngine(() => false);
    const resumed = await introspectionData(input(again.engine, dir));
    expect(again.calls).toHaveLength(0);
    expect(resumed.rows).toHaveLength(data.rows.length);
    expect(existsSync(join(dir, 'introspection.jsonl'))).toBe(true);
  });
});

describe('introspection anchored to the teacher (top-k captured)', () => {
  it('is written by the base with the constitution, every answer with its top-k file, one kd row per kept turn', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-intro-kd-'));
    dirs.push(dir);
    const { engine, calls } = fakeEngine((call, i) => call === 7 && i === 1);
    const { adapter: _dpo, ...rest } = input(engine, dir, 4);
    const data = await introspectionData({
      ...rest,
      captureTopK: 8,
      turnSampling: { temperature: 0.7, top_p: 0.95, max_new_tokens: 24, seed: 7 },
    });
    for (const c of calls) {
      const p = c as unknown as {
        adapter?: string;
        capture_topk?: { k: number };
        items: { topk_path?: string }[];
        sampling: { seed: number; max_new_tokens: number };
      };
      expect(p.adapter).toBeUndefined(); // the teacher: the base, no adapter
      expect(p.capture_topk).toEqual({ k: 8 });
      for (const it of p.items) expect(it.topk_path?.startsWith(join(dir, 'topk'))).toBe(true);
    }
    // Turns are shorter than reflections, and each turn draws with its own seed (the same seed
    // every turn gave the same draws again: duplicates).
    const turnCalls = calls.slice(3) as unknown as { sampling: { seed: number; max_new_tokens: number } }[];
    expect(turnCalls.every((c) => c.sampling.max_new_tokens === 24)).toBe(true);
    expect(new Set(turnCalls.map((c) => c.sampling.seed)).size).toBe(turnCalls.length);
    // Rows: 20 reflections + one per kept turn whose speaker answered something (B's first
    // turn answers A's opener as the user's message, so it counts; A's opener answers the prompt).
    expect(data.rows.every((r) => typeof r.teacher_topk === 'string')).toBe(true);
    const kept = data.interactions.reduce((a, x) => a + x.keptTurns, 0);
    expect(data.rows).toHaveLength(20 + kept);
    for (const r of data.rows) expect(r.messages[r.messages.length - 1]?.role).toBe('assistant');
    expect(data.generated).toBe(20 + 3 * 4);
    expect(data.kept).toBe(20 + kept);
    expect(introspectionSummary(data)).toBe(
      `introspection: kept ${20 + kept} of 32 answers (${20 + kept} training rows); filtered: repetition_loop 1`,
    );
  });

  it('gives a captured conversation one row per kept turn, ending on that turn', () => {
    const x: Interaction = {
      topic: 't',
      prompt: 'open',
      conversation: [
        { role: 'A', content: 'a1', flags: [], topk: '/t/0' },
        { role: 'B', content: 'b1', flags: [], topk: '/t/1' },
        { role: 'A', content: 'a2', flags: ['repetition_loop'], topk: '/t/2' },
      ],
      keptTurns: 2,
    };
    const rows = interactionTurnRows(x);
    expect(rows.map((r) => r.teacher_topk)).toEqual(['/t/0', '/t/1']);
    expect(rows[1]?.messages.map((m) => `${m.role}:${m.content}`)).toEqual(['user:a1', 'assistant:b1']);
  });
});
