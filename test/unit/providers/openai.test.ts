// OpenAICompatibleProvider against a real local HTTP server (node:http on 127.0.0.1:0) whose
// routes misbehave on purpose: 429 then success, 500 then success, garbage, a hang.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpenAICompatibleProvider, ProviderError, parseRetryAfter } from '../../../src-main/providers';
import type { SamplingParams } from '../../../src-shared/engine-protocol';

const KEY = 'sk-test-secret-123';
const sampling: SamplingParams = { temperature: 0.2, top_p: 0.9, max_new_tokens: 32, seed: 1 };
const hits = new Map<string, number>();
const bodies: Record<string, unknown>[] = [];
let inFlight = 0;
let maxInFlight = 0;
let server: http.Server;
let base: string;

function completion(content: string): string {
  return JSON.stringify({
    id: 'x',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 },
  });
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const route = (req.url ?? '').split('/')[1] ?? '';
    const n = (hits.get(route) ?? 0) + 1;
    hits.set(route, n);
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      bodies.push({ ...body, auth: req.headers.authorization });
      const reply = (status: number, text: string, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(text);
      };
      switch (route) {
        case 'ok': {
          inFlight += 1;
          maxInFlight = Math.max(maxInFlight, inFlight);
          const msgs = body.messages as { content: string }[];
          setTimeout(() => {
            inFlight -= 1;
            reply(200, completion(`echo: ${msgs[msgs.length - 1]?.content ?? ''}`));
          }, 30);
          return;
        }
        case 'rate':
          return n === 1
            ? reply(429, '{"error":"slow down"}', { 'retry-after': '1' })
            : reply(200, completion('after 429'));
        case 'flaky':
          return n === 1 ? reply(500, 'internal oops') : reply(200, completion('after 500'));
        case 'down':
          return reply(503, 'still down');
        case 'garbage':
          // Echoes the Authorization header to prove the key is redacted from errors.
          return reply(200, `<html>proxy error ${req.headers.authorization ?? ''}</html>`);
        case 'nousage':
          return reply(
            200,
            JSON.stringify({ choices: [{ message: { content: 'hi' }, finish_reason: 'length' }] }),
          );
        case 'unauthorized':
          return reply(401, '{"error":"bad key"}');
        case 'hang':
          return; // never answers
        default:
          return reply(404, 'no route');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  hits.clear();
  bodies.length = 0;
  maxInFlight = 0;
});

function provider(
  route: string,
  extra: Partial<ConstructorParameters<typeof OpenAICompatibleProvider>[0]> = {},
): OpenAICompatibleProvider {
  return new OpenAICompatibleProvider({
    baseUrl: `${base}/${route}/v1/`,
    apiKey: KEY,
    model: 'teacher-x',
    backoffBaseMs: 10,
    maxAttempts: 3,
    ...extra,
  });
}

describe('OpenAICompatibleProvider', () => {
  it('returns answers in order with usage, within the concurrency bound', async () => {
    const items = Array.from({ length: 10 }, (_, i) => ({
      system: 'You are Beethoven.',
      messages: [{ role: 'user' as const, content: `q${i}` }],
    }));
    const progress: number[] = [];
    const out = await provider('ok', { concurrency: 3 }).generate(items, sampling, {
      onProgress: (p) => progress.push(p.done),
    });
    expect(out.map((o) => o.text)).toEqual(items.map((_, i) => `echo: q${i}`));
    expect(out[0]).toMatchObject({
      promptTokens: 11,
      completionTokens: 3,
      finishReason: 'stop',
      ttftMs: null,
    });
    expect(out[0]?.latencyMs).toBeGreaterThan(0);
    expect(maxInFlight).toBe(3);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(hits.get('ok')).toBe(10);
    const first = bodies[0] as {
      model: string;
      messages: unknown[];
      max_tokens: number;
      top_p: number;
      auth: string;
    };
    expect(first.model).toBe('teacher-x');
    expect(first.max_tokens).toBe(32);
    expect(first.top_p).toBe(0.9);
    expect(first.messages[0]).toEqual({ role: 'system', content: 'You are Beethoven.' });
    expect(first.auth).toBe(`Bearer ${KEY}`);
  });

  it('retries a 429 after the Retry-After delay', async () => {
    const retries: number[] = [];
    const started = Date.now();
    const out = await provider('rate', { onRetry: (r) => retries.push(r.delayMs) }).generate(
      [{ messages: [{ role: 'user', content: 'x' }] }],
      sampling,
    );
    expect(out[0]?.text).toBe('after 429');
    expect(hits.get('rate')).toBe(2);
    expect(retries).toEqual([1000]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('retries a 500 with backoff', async () => {
    const out = await provider('flaky').generate([{ messages: [{ role: 'user', content: 'x' }] }], sampling);
    expect(out[0]?.text).toBe('after 500');
    expect(hits.get('flaky')).toBe(2);
  });

  it('gives up on a persistent 5xx after maxAttempts with the status', async () => {
    const err = await provider('down')
      .generate([{ messages: [{ role: 'user', content: 'x' }] }], sampling)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ code: 'http_error', status: 503, attempts: 3 });
    expect((err as Error).message).toContain('still down');
    expect(hits.get('down')).toBe(3);
  });

  it('fails on a garbage body at once, naming the status and a snippet, without the key', async () => {
    const err = await provider('garbage')
      .generate([{ messages: [{ role: 'user', content: 'x' }] }], sampling)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ code: 'bad_response', status: 200, attempts: 1 });
    expect((err as Error).message).toContain('HTTP 200');
    expect((err as Error).message).toContain('<html>proxy error');
    expect((err as Error).message).not.toContain(KEY);
    expect(JSON.stringify((err as ProviderError).detail)).not.toContain(KEY);
    expect(hits.get('garbage')).toBe(1);
  });

  it('does not retry a 401', async () => {
    const err = await provider('unauthorized')
      .generate([{ messages: [{ role: 'user', content: 'x' }] }], sampling)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'http_error', status: 401, attempts: 1 });
    expect(hits.get('unauthorized')).toBe(1);
  });

  it('times out each attempt of a hanging server and reports a timeout after the retries', async () => {
    const started = Date.now();
    const err = await provider('hang', { timeoutMs: 200 })
      .generate([{ messages: [{ role: 'user', content: 'x' }] }], sampling)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ code: 'timeout', attempts: 3 });
    expect(hits.get('hang')).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  it('reports a refused connection as a network error after the retries', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const p = new OpenAICompatibleProvider({
      baseUrl: `http://127.0.0.1:${port}/v1`,
      model: 'm',
      backoffBaseMs: 5,
      maxAttempts: 2,
    });
    const err = await p
      .generate([{ messages: [{ role: 'user', content: 'x' }] }], sampling)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'network', attempts: 2 });
  });

  it('reports missing usage as null, never as an estimate', async () => {
    const out = await provider('nousage').generate(
      [{ messages: [{ role: 'user', content: 'x' }] }],
      sampling,
    );
    expect(out[0]).toMatchObject({
      text: 'hi',
      promptTokens: null,
      completionTokens: null,
      finishReason: 'length',
    });
  });

  it('stops on the caller’s AbortSignal', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const err = await provider('hang', { timeoutMs: 10_000 })
      .generate([{ messages: [{ role: 'user', content: 'x' }] }], sampling, { signal: ac.signal })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'cancelled' });
    expect(hits.get('hang')).toBe(1);
  });

  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('99999')).toBe(120_000);
  });

  it('rejects an empty base URL as a config error', () => {
    expect(() => new OpenAICompatibleProvider({ baseUrl: ' ', model: 'm' })).toThrow(ProviderError);
  });
});
