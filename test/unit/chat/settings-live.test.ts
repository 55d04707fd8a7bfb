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
  expect(JSON.parse(before.student.content)).toEqual({ source: 'default' });

  studio.settings.set('studentModel', { source: 'gguf', path: '/models/other.gguf' });
  const after = await studio.chat.send(session.id, 'And now?');
  expect(JSON.parse(after.student.content)).toEqual({ source: 'gguf', path: '/models/other.gguf' });
});
