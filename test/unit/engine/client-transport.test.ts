// The client's transport against a FAKE engine (test/unit/engine/fixtures/fake-engine.mjs, a
// Node script with no model) so garbage output and crashes can be provoked on purpose.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineClient } from '../../../src-main/engine/client';
import {
  EngineCancelledError,
  EngineError,
  EngineExitedError,
  EngineModelError,
  EngineProtocolError,
  EngineSpawnError,
  EngineTimeoutError,
} from '../../../src-main/engine/errors';
import type { EngineEvent } from '../../../src-shared/engine-protocol';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const clients: EngineClient[] = [];

function fakeClient(logs: string[] = []): EngineClient {
  const c = new EngineClient({
    python: process.execPath,
    args: [path.join(fixtures, 'fake-engine.mjs')],
    engineDir: fixtures,
    logger: (line, source) => logs.push(`${source}: ${line}`),
    shutdownGraceMs: 500,
  });
  clients.push(c);
  return c;
}

// The fake engine accepts any method; `mode` picks its behaviour.
function mode(m: string): never {
  return { mode: m } as never;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe('EngineClient transport (fake engine)', () => {
  it('resolves results, forwards events, skips unknown events', async () => {
    const logs: string[] = [];
    const c = fakeClient(logs);
    const events: EngineEvent[] = [];
    const r = (await c.call('health', mode('events'), { onEvent: (e) => events.push(e) })) as unknown as {
      pid: number;
    };
    expect(r.pid).toBe(c.stats().pid);
    expect(events.map((e) => e.event)).toEqual(['progress', 'token']);
    expect(events[0]).toMatchObject({ fraction: 0.5, done: 1, total: 2 });
    expect(logs.some((l) => l.includes('unknown engine event "sparkle"'))).toBe(true);
    expect(logs.some((l) => l.startsWith('stderr: fake engine'))).toBe(true);
  });

  it('runs concurrent calls and matches replies by id', async () => {
    const c = fakeClient();
    const results = await Promise.all(
      [1, 2, 3].map((n) => c.call('health', { n } as never) as Promise<unknown>),
    );
    expect(results.map((r) => (r as { echo: { n: number } }).echo.n)).toEqual([1, 2, 3]);
    expect(c.stats().starts).toBe(1);
  });

  it('maps engine error codes to typed errors', async () => {
    const c = fakeClient();
    const err = await c.call('load_model', mode('error')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineModelError);
    expect(err).toMatchObject({ code: 'model_not_found', method: 'load_model', detail: { path: '/nope' } });
  });

  it('fails the call whose reply is buried in garbage with EngineProtocolError naming the line', async () => {
    const c = fakeClient();
    const err = await c.call('health', mode('garbage')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineProtocolError);
    expect((err as EngineProtocolError).line).toContain('Some library print');
    expect((err as Error).message).toContain('Some library print');
    expect(c.stats().protocolErrors).toBe(1);
    // A stray line without an id is counted and logged but harms no call.
    await expect(c.call('health', mode('noise'))).resolves.toBe('after noise');
    expect(c.stats().protocolErrors).toBe(2);
    expect(c.stats().lastProtocolError).toBe('a stray print with no id');
  });

  it('cancels through an AbortSignal and the engine keeps serving', async () => {
    const c = fakeClient();
    const ac = new AbortController();
    const p = c.call('generate', mode('slow'), { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toBeInstanceOf(EngineCancelledError);
    await expect(c.call('health', mode('x'))).resolves.toMatchObject({ echo: { mode: 'x' } });
    expect(c.stats().pending).toBe(0);
    // An already-aborted signal never reaches the engine.
    await expect(c.call('health', mode('x'), { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      EngineCancelledError,
    );
  });

  it('times out with EngineTimeoutError', async () => {
    const c = fakeClient();
    const started = Date.now();
    const err = await c.call('generate', mode('slow'), { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineTimeoutError);
    expect(err).toMatchObject({ code: 'timeout', timeoutMs: 200, method: 'generate' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('rejects pending calls with EngineExitedError on a crash and restarts on the next call', async () => {
    const c = fakeClient();
    const slow = c.call('generate', mode('slow')).catch((e: unknown) => e);
    const firstPid = c.stats().pid;
    const crash = await c.call('health', mode('crash')).catch((e: unknown) => e);
    expect(crash).toBeInstanceOf(EngineExitedError);
    expect(crash).toMatchObject({ exitCode: 3, code: 'engine_exited' });
    expect((crash as EngineExitedError).stderrTail.join('\n')).toContain('Traceback: boom');
    expect(await slow).toBeInstanceOf(EngineExitedError);
    expect(c.running).toBe(false);
    const again = (await c.call('health', mode('x'))) as unknown as { pid: number };
    expect(again.pid).not.toBe(firstPid);
    expect(c.stats().starts).toBe(2);
  });

  it('a call made after the engine exited but before its pipes closed goes to a new engine', async () => {
    const c = fakeClient();
    const orphaned = c.call('health', mode('orphan')).catch((e: unknown) => e);
    const oldPid = c.stats().pid;
    // Until it has exited (a grandchild still holds the pipes): a bounded wait on the condition.
    for (let i = 0; i < 500 && c.running; i++) await new Promise((r) => setTimeout(r, 20));
    expect(c.running).toBe(false);
    const fresh = (await c.call('health', mode('x'))) as unknown as { pid: number };
    expect(fresh.pid).not.toBe(oldPid);
    expect(await orphaned).toMatchObject({ code: 'engine_exited', exitCode: 5 });
    // The old engine's late exit handling did not touch the new engine's calls.
    await expect(c.call('health', mode('y'))).resolves.toMatchObject({ echo: { mode: 'y' } });
    expect(c.stats().starts).toBe(2);
  });

  it('close() shuts the engine down; a stubborn engine is killed after the grace period', async () => {
    const c = fakeClient();
    await c.call('health', mode('x'));
    await c.close();
    expect(c.running).toBe(false);
    // This fake then ignores shutdown, stdin EOF and SIGTERM: only SIGKILL ends it.
    const pending = c.call('generate', mode('slow')).catch((e: unknown) => e);
    await c.call('health', mode('ignore-shutdown'));
    const started = Date.now();
    await c.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(c.running).toBe(false);
    expect(await pending).toMatchObject({ code: 'engine_exited', signal: 'SIGKILL' });
  });

  it('reports a missing interpreter as EngineSpawnError', async () => {
    const c = new EngineClient({ python: '/nonexistent/python', engineDir: fixtures });
    const err = await c.call('health', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineSpawnError);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as Error).message).toContain('/nonexistent/python');
  });
});
