/**
 * The bench's chat rows on the tiny model: a student trained by the bench, a cold turn after
 * unloading and warm turns after it, each with a first token and a decode rate.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src-shared/engine-protocol';
import { EngineClient } from '../../src-main/engine/client';
import { chatLatencyRows, measureChatLatency } from '../bench/chat-latency';

const ROOT = resolve(__dirname, '..', '..');
const PYTHON = join(ROOT, 'engine', '.venv', 'bin', 'python');

let work: string;
let model: ModelSpec;
let engine: EngineClient;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'cs-chat-latency-'));
  const dir = join(work, 'tiny-model');
  const built = spawnSync(PYTHON, ['-m', 'character_dev.tiny', dir], {
    cwd: join(ROOT, 'engine'),
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`tiny model build failed: ${built.stderr}`);
  model = { source: 'local', path: dir };
  engine = new EngineClient({
    env: { ...process.env, CHARACTER_ENGINE_THREADS: '1' } as Record<string, string>,
  });
});

afterAll(async () => {
  await engine?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('chat latency rows', () => {
  it('times a cold and warm turns of a trained student with a 10-turn history', async () => {
    const r = await measureChatLatency(engine, { model, adapter: null, warmTurns: 2 });
    expect(r.student).toContain('2-step LoRA');
    expect(r.warm.turns).toBe(2);
    for (const t of [r.cold, r.warm]) {
      expect(t.ttftMs).toBeGreaterThan(0);
      expect(t.completionTokens).toBeGreaterThan(0);
    }
    const rows = chatLatencyRows(r);
    expect(rows.map((x) => x.name)).toEqual([
      'chat: time to first token, cold (model unloaded)',
      'chat: tokens/s after the first, cold',
      'chat: time to first token, warm (mean of 2 turns)',
      'chat: tokens/s after the first, warm',
    ]);
  });
});
