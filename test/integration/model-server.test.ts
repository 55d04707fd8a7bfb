// The engine's OpenAI-compatible server started the way `character serve-model` and the bench
// start it (src-main/engine/model-server.ts), on a tiny RANDOM model built locally.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultEnginePython, repoRoot } from '../../src-main/engine/client';
import { EngineError } from '../../src-main/engine/errors';
import { startModelServer } from '../../src-main/engine/model-server';
import type { ModelSpec } from '../../src-shared/engine-protocol';

const env = { HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', CHARACTER_ENGINE_THREADS: '1' };
let tmp: string;
let tiny: ModelSpec;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'model-server-'));
  const dir = path.join(tmp, 'tiny-model');
  execFileSync(defaultEnginePython(), ['-m', 'character_dev.tiny', dir], {
    cwd: path.join(repoRoot(), 'engine'),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  tiny = { source: 'local', path: dir };
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the engine model server as a child process', () => {
  it('listens on a free port, requires its API key, answers, and stops on close', async () => {
    const server = await startModelServer({
      model: tiny,
      modelId: 'beethoven:c1',
      port: 0,
      apiKey: 'k-1',
      env,
    });
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}/v1`);
      expect(server.model).toBe('beethoven:c1');
      expect(server.apiKeyRequired).toBe(true);
      expect((await fetch(`${server.url}/models`)).status).toBe(401);
      const res = await fetch(`${server.url}/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer k-1', 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'beethoven:c1',
          messages: [{ role: 'user', content: 'Hello' }],
          max_tokens: 3,
          ignore_eos: true,
        }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { model: string; usage: { completion_tokens: number } };
      expect(body.model).toBe('beethoven:c1');
      expect(body.usage.completion_tokens).toBe(3);
    } finally {
      await server.close();
    }
    expect(await server.exited).toBe(0); // SIGTERM ends it cleanly
  });

  it('refuses to bind beyond loopback without a key, and reports a model that cannot load', async () => {
    await expect(startModelServer({ model: tiny, host: '0.0.0.0', env })).rejects.toThrow(/API key/);
    const missing = startModelServer({ model: { source: 'local', path: path.join(tmp, 'nope') }, env });
    await expect(missing).rejects.toBeInstanceOf(EngineError);
    await expect(missing).rejects.toMatchObject({ code: 'model_not_found' });
  });
});
