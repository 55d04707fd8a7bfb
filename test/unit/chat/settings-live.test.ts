// Chat reads the default model from settings at every message: a settings change reaches the next
// message of an open studio, without a restart. The engine is the fake one, which answers with the
// model spec it was asked to use.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MemorySettingsStore } from '../../../src-main/core/settings';
import { EngineClient } from '../../../src-main/engine/client';
import { CHAT_SAMPLING, chatSampling } from '../../../src-main/chat/service';
import type { ChatSampling } from '../../../src-shared/contract';
import type { SamplingParams } from '../../../src-shared/engine-protocol';
import { openStudio, type Studio } from '../../../src-main/studio/studio';

const fakeEngine = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'engine',
  'fixtures',
  'fake-engine.mjs',
);

let dataDir: string;
let studio: Studio;

beforeEach(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'chat-settings-'));
  const engine = new EngineClient({ python: process.execPath, args: [fakeEngine] });
  studio = await openStudio({ dataDir, settings: new MemorySettingsStore({ dataDir }), engine });
});

afterEach(async () => {
  await studio.engine.close();
  await studio.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it('uses the student model in settings now, not the one at start-up', async () => {
  const session = studio.chat.start(null, false);
  const before = await studio.chat.send(session.id, 'Who are you?');
  expect(JSON.parse(before.student.content).model).toEqual({ source: 'default' });

  studio.settings.set('studentModel', { source: 'gguf', path: '/models/other.gguf' });
  const after = await studio.chat.send(session.id, 'And now?');
  expect(JSON.parse(after.student.content).model).toEqual({ source: 'gguf', path: '/models/other.gguf' });
});

it("samples with chat's defaults, a new seed per reply unless one is given, and checks overrides", async () => {
  const session = studio.chat.start(null, false);
  const sampled = async (o: Partial<ChatSampling>): Promise<SamplingParams> =>
    (
      JSON.parse((await studio.chat.send(session.id, 'Hello', undefined, o)).student.content) as {
        sampling: SamplingParams;
      }
    ).sampling;
  const a = await sampled({});
  expect(a).toMatchObject({
    temperature: CHAT_SAMPLING.temperature,
    top_p: CHAT_SAMPLING.topP,
    max_new_tokens: CHAT_SAMPLING.maxTokens,
  });
  const seeds = new Set([a.seed, (await sampled({})).seed, (await sampled({})).seed]);
  expect(seeds.size).toBeGreaterThan(1);
  const greedy = await sampled({
    temperature: 0,
    seed: 7,
    maxTokens: 20,
    repetitionPenalty: 1.3,
    noRepeatNgram: 3,
  });
  expect(greedy).toEqual({
    temperature: 0,
    top_p: CHAT_SAMPLING.topP,
    max_new_tokens: 20,
    seed: 7,
    repetition_penalty: 1.3,
    no_repeat_ngram_size: 3,
  });
  await expect(studio.chat.send(session.id, 'Hi', undefined, { topP: 0 })).rejects.toMatchObject({
    code: 'invalid_params',
    detail: { param: 'sampling.topP' },
  });
  expect(() => chatSampling({ repetitionPenalty: 0.5 })).toThrow(/sampling.repetitionPenalty must be from 1/);
});

it('is greedy at temperature 0: no repetition penalty unless one is asked for', async () => {
  expect(chatSampling({ temperature: 0 }).repetitionPenalty).toBe(1);
  expect(chatSampling({ temperature: 0, repetitionPenalty: 1.2 }).repetitionPenalty).toBe(1.2);
  expect(chatSampling({}).repetitionPenalty).toBe(CHAT_SAMPLING.repetitionPenalty);
  const session = studio.chat.start(null, false);
  const reply = await studio.chat.send(session.id, 'Hello', undefined, { temperature: 0 });
  const sent = (JSON.parse(reply.student.content) as { sampling: SamplingParams }).sampling;
  expect(sent.repetition_penalty).toBeUndefined();
  expect(sent.temperature).toBe(0);
});

it('warms the chat model up: loads it and runs one token, then says how long it took', async () => {
  const warmed = await studio.chat.warm(null, false);
  expect(warmed).toMatchObject({ checkpointId: null, withTeacher: false });
  expect(warmed.loadMs).toBeGreaterThanOrEqual(0);
  await expect(studio.chat.warm('nope', false)).rejects.toMatchObject({ code: 'not_found' });
});
