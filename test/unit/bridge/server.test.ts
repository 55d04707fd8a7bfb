import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PersonaSummary, RunSummary } from '../../../src-shared/contract';
import { startBridge, type Bridge } from '../../../src-main/bridge/server';
import type { Handlers } from '../../../src-main/handlers/types';
import { NotFoundError, ConfigError } from '../../../src-main/core/errors';
import { StudioEvents } from '../../../src-main/core/events';

const persona: PersonaSummary = {
  id: 'beethoven',
  name: 'Beethoven',
  version: 1,
  format: 'yaml',
  description: 'composer',
  wordCount: 500,
  builtIn: true,
};

const run: RunSummary = {
  id: 'r1',
  personaId: 'beethoven',
  personaVersion: 1,
  scale: 'smoke',
  status: 'running',
  step: 'generate',
  error: null,
  createdAt: '2026-11-21T00:00:00Z',
  updatedAt: '2026-11-21T00:00:00Z',
  dir: '/tmp/r1',
};

/**
 * Transport-level handlers: the bridge only routes, so a few channels with known answers and
 * known failures are enough to check routing, status codes and error payloads.
 */
function transportHandlers(): Handlers {
  const some: Partial<Handlers> = {
    'personas:list': async () => [persona],
    'personas:get': async ({ id }) => {
      throw new NotFoundError('persona', id);
    },
    'training:defaults': async () => {
      throw new ConfigError('scale must be smoke, mini or paper', 'scale');
    },
    'runs:get': async () => {
      throw new Error('disk on fire');
    },
    'checkpoints:rollback': async () => null,
  };
  return new Proxy(some as Handlers, {
    get: (target, key: string) =>
      (target as Record<string, unknown>)[key] ??
      (async () => {
        throw new Error(`not part of this transport test: ${key}`);
      }),
  });
}

let bridge: Bridge;
let events: StudioEvents;
let staticDir: string;

beforeEach(async () => {
  events = new StudioEvents();
  staticDir = mkdtempSync(join(tmpdir(), 'bridge-static-'));
  mkdirSync(join(staticDir, 'assets'));
  writeFileSync(
    join(staticDir, 'index.html'),
    '<!doctype html><html><head><title>x</title></head><body></body></html>',
  );
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  bridge = await startBridge({ handlers: transportHandlers(), events, staticDir });
});

afterEach(async () => {
  await bridge.close();
  rmSync(staticDir, { recursive: true, force: true });
});

async function post(channel: string, body: unknown, token: string | null = bridge.token): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers['x-studio-token'] = token;
  return fetch(`${bridge.origin}/api/${channel}`, { method: 'POST', headers, body: JSON.stringify(body) });
}

/** fetch() forbids setting Host; node:http does not. */
function getWithHost(path: string, host: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: '127.0.0.1', port: bridge.port, path, headers: { host } }, (res) => {
      res.resume();
      resolvePromise(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('loopback bridge', () => {
  it('listens on loopback and builds a URL that carries a long random token', () => {
    expect(bridge.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(bridge.token.length).toBeGreaterThanOrEqual(40);
    expect(bridge.url).toBe(`${bridge.origin}/?token=${bridge.token}`);
  });

  it('refuses a non-loopback host to bind to', async () => {
    await expect(startBridge({ handlers: transportHandlers(), events, host: '0.0.0.0' })).rejects.toThrow(
      /loopback only/,
    );
  });

  it('answers a channel with its result in an ok envelope', async () => {
    const res = await post('personas:list', null);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, result: [persona] });
  });

  it('keeps a null result as null', async () => {
    const res = await post('checkpoints:rollback', null);
    expect(await res.json()).toEqual({ ok: true, result: null });
  });

  it('requires the token on every API request', async () => {
    const missing = await post('personas:list', null, null);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const wrong = await post('personas:list', null, 'x'.repeat(bridge.token.length));
    expect(wrong.status).toBe(401);
    const viaQuery = await fetch(`${bridge.origin}/api/personas:list?token=${bridge.token}`, {
      method: 'POST',
    });
    expect(viaQuery.status).toBe(200);
  });

  it('answers 404 with unknown_channel for a channel outside the contract', async () => {
    const res = await post('shell:exec', { cmd: 'rm -rf /' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unknown_channel');
  });

  it('maps typed errors to codes, details and HTTP statuses', async () => {
    const notFound = await post('personas:get', { id: 'mozart' });
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toEqual({
      ok: false,
      error: {
        code: 'not_found',
        message: 'persona not found: mozart',
        detail: { kind: 'persona', id: 'mozart', errorClass: 'NotFoundError' },
      },
    });
    const config = await post('training:defaults', { scale: 'huge' });
    expect(config.status).toBe(400);
    expect(
      ((await config.json()) as { error: { code: string; detail: { field: string } } }).error,
    ).toMatchObject({
      code: 'config',
      detail: { field: 'scale' },
    });
    const internal = await post('runs:get', { id: 'r1' });
    expect(internal.status).toBe(500);
    expect(((await internal.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'internal',
      message: 'disk on fire',
    });
  });

  it('rejects a body that is not JSON and requests that are not POST', async () => {
    const bad = await fetch(`${bridge.origin}/api/personas:list`, {
      method: 'POST',
      headers: { 'x-studio-token': bridge.token },
      body: '{not json',
    });
    expect(bad.status).toBe(400);
    const get = await fetch(`${bridge.origin}/api/personas:list`, {
      headers: { 'x-studio-token': bridge.token },
    });
    expect(get.status).toBe(405);
  });

  it('rejects Host headers that are not loopback (DNS rebinding)', async () => {
    expect(await getWithHost(`/?token=${bridge.token}`, `evil.example:${bridge.port}`)).toBe(403);
    expect(await getWithHost(`/?token=${bridge.token}`, `localhost:${bridge.port}`)).toBe(200);
    expect(await getWithHost(`/?token=${bridge.token}`, `127.0.0.1:${bridge.port + 1}`)).toBe(403);
  });

  it('refuses cross-origin API calls even with the token', async () => {
    const res = await fetch(`${bridge.origin}/api/personas:list`, {
      method: 'POST',
      headers: { 'x-studio-token': bridge.token, origin: 'http://evil.example' },
    });
    expect(res.status).toBe(403);
  });

  it('delivers pipeline events as server-sent events', async () => {
    const controller = new AbortController();
    const res = await fetch(`${bridge.origin}/api/events?token=${bridge.token}`, {
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    // Wait for the stream's opening comment so the subscription exists before emitting.
    while (!text.includes(': connected')) text += decoder.decode((await reader.read()).value);
    events.emit('run:status', run);
    events.emit('training:metric', { runId: 'r1', point: { step: 3, kind: 'train', loss: 2.5 } });
    while (!text.includes('training:metric')) text += decoder.decode((await reader.read()).value);
    while (!text.endsWith('\n\n')) text += decoder.decode((await reader.read()).value);
    controller.abort();
    const frames = text
      .split('\n\n')
      .filter((f) => f.startsWith('event:'))
      .map((f) => {
        const [eventLine, dataLine] = f.split('\n');
        return {
          event: eventLine!.slice('event: '.length),
          data: JSON.parse(dataLine!.slice('data: '.length)),
        };
      });
    expect(frames).toEqual([
      { event: 'run:status', data: run },
      { event: 'training:metric', data: { runId: 'r1', point: { step: 3, kind: 'train', loss: 2.5 } } },
    ]);
  });

  it('requires the token for the event stream', async () => {
    const res = await fetch(`${bridge.origin}/api/events`);
    expect(res.status).toBe(401);
  });

  it('serves the page with the token injected and a strict CSP, assets without token', async () => {
    const page = await fetch(bridge.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await page.text()).toContain(`<meta name="studio-token" content="${bridge.token}">`);
    const noToken = await fetch(`${bridge.origin}/`);
    expect(noToken.status).toBe(401);
    expect(await noToken.text()).not.toContain(bridge.token);
    const asset = await fetch(`${bridge.origin}/assets/app.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    const traversal = await fetch(`${bridge.origin}/assets/..%2f..%2f..%2fetc%2fpasswd`);
    expect(traversal.status).toBe(404);
    const route = await fetch(`${bridge.origin}/runs/r1?token=${bridge.token}`);
    expect(route.status).toBe(200);
  });
});
