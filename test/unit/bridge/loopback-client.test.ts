import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startBridge, type Bridge } from '../../../src-main/bridge/server';
import type { Handlers } from '../../../src-main/handlers/types';
import { NotFoundError } from '../../../src-main/core/errors';
import { StudioEvents } from '../../../src-main/core/events';
import { ApiError } from '../../../src-renderer/src/api/errors';
import { createLoopbackApi } from '../../../src-renderer/src/api/loopback';

/** The renderer's loopback client against the real bridge: results, typed errors, bad tokens. */
function transportHandlers(): Handlers {
  const some: Partial<Handlers> = {
    'training:defaults': async ({ scale }) => {
      throw new NotFoundError('scale', scale);
    },
    'checkpoints:rollback': async () => null,
    'runs:list': async () => [],
  };
  return some as Handlers;
}

let bridge: Bridge;
beforeEach(async () => {
  bridge = await startBridge({ handlers: transportHandlers(), events: new StudioEvents() });
});
afterEach(async () => {
  await bridge.close();
});

describe('loopback API client', () => {
  it('resolves with results', async () => {
    const api = createLoopbackApi({ baseUrl: bridge.origin, token: bridge.token });
    expect(await api.invoke('runs:list', undefined)).toEqual([]);
    expect(await api.invoke('checkpoints:rollback', undefined)).toBeNull();
  });

  it('throws ApiError with the typed code and detail', async () => {
    const api = createLoopbackApi({ baseUrl: bridge.origin, token: bridge.token });
    const error = await api.invoke('training:defaults', { scale: 'paper' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'not_found', message: 'scale not found: paper' });
    expect((error as ApiError).detail).toMatchObject({ kind: 'scale', id: 'paper' });
  });

  it('reports a wrong token as unauthorized', async () => {
    const api = createLoopbackApi({ baseUrl: bridge.origin, token: 'wrong' });
    await expect(api.invoke('runs:list', undefined)).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('reports an unreachable bridge as a transport error', async () => {
    const api = createLoopbackApi({ baseUrl: 'http://127.0.0.1:1', token: 't' });
    await expect(api.invoke('runs:list', undefined)).rejects.toMatchObject({ code: 'transport' });
  });
});
