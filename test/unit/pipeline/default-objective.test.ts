/**
 * The default objective (issue #9 item 3): kd, chosen by measurement, wherever the teacher's
 * token distributions exist; sft where they cannot (an endpoint without top_logprobs, imported
 * answers, the recipes that train on text); an objective asked for by name is kept or refused,
 * never silently replaced.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_OBJECTIVE } from '../../../src-shared/contract';
import { MemorySettingsStore, type SettingsStore } from '../../../src-main/core/settings';
import type { EngineClient } from '../../../src-main/engine/client';
import { createRun } from '../../../src-main/runs/create-run';
import { checkImportedData } from '../../../src-main/pipeline/recipes/imported';
import { openStudio, type Studio } from '../../../src-main/studio/studio';

let dir: string;
let studio: Studio;
let settings: SettingsStore;

const engine = {
  call: async () => {
    throw new Error('no engine call expected');
  },
} as unknown as EngineClient;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'default-objective-'));
  settings = new MemorySettingsStore({ dataDir: dir });
  studio = await openStudio({ dataDir: dir, settings, engine });
});

afterEach(async () => {
  await studio.close();
  rmSync(dir, { recursive: true, force: true });
});

const objectiveOf = (opts: Parameters<typeof createRun>[1]): string =>
  createRun(studio, opts).config.scaleConfig.training.objective;

describe('the default objective', () => {
  it('is kd for every scale with a local teacher', () => {
    expect(DEFAULT_OBJECTIVE).toBe('kd');
    for (const scale of ['smoke', 'mini', 'paper'] as const)
      expect(objectiveOf({ personaId: 'beethoven', scale })).toBe('kd');
  });

  it('falls back to sft on imported answers, and the text recipes train on text', () => {
    const lines = Array.from({ length: 12 }, (_, i) =>
      JSON.stringify({
        messages: [
          { role: 'user', content: `Question ${i}?` },
          { role: 'assistant', content: `Answer number ${i}, given at some length by the composer himself.` },
        ],
      }),
    );
    const file = join(dir, 'pairs.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const { config } = checkImportedData(file, { use: 'teacher' });
    expect(objectiveOf({ personaId: 'beethoven', scale: 'smoke', importedData: config })).toBe('sft');
    expect(objectiveOf({ personaId: 'beethoven', scale: 'smoke', recipe: 'character' })).toBe('sft');
  });

  it('falls back to sft on an endpoint without top_logprobs, and is kd on one with them', () => {
    settings.set('teacherProvider', 'openai');
    settings.set('openai', { baseUrl: 'http://127.0.0.1:9/v1', model: 'm', apiKey: '' });
    expect(objectiveOf({ personaId: 'beethoven', scale: 'smoke' })).toBe('sft');
    // Asked for by name, kd is refused with the reason rather than replaced.
    expect(() =>
      createRun(studio, { personaId: 'beethoven', scale: 'smoke', training: { objective: 'kd' } }),
    ).toThrow(/does not give: use sft, a local teacher, or set topLogprobs/);
    settings.set('openai', { baseUrl: 'http://127.0.0.1:9/v1', model: 'm', apiKey: '', topLogprobs: 20 });
    expect(objectiveOf({ personaId: 'beethoven', scale: 'smoke' })).toBe('kd');
  });
});
