/**
 * The IPC wrapper and the preload, with Electron's modules replaced by recorders (Electron's
 * binary cannot run here). What is checked is our code: which channels get registered, which
 * senders are refused, what the page can reach, and that destroyed windows are skipped.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  API_CHANNELS,
  type ApiResponse,
  type ApiChannel,
  type StudioBridge,
} from '../../../src-shared/contract';
import type { Handlers } from '../../../src-main/handlers/types';
import { StudioEvents } from '../../../src-main/core/events';

type Handler = (event: unknown, params: unknown) => Promise<ApiResponse<ApiChannel>>;

const recorded = vi.hoisted(() => ({
  handlers: new Map<string, (event: unknown, params: unknown) => Promise<unknown>>(),
  removed: [] as string[],
  windows: [] as { destroyed: boolean; sent: [string, unknown][] }[],
  exposed: new Map<string, unknown>(),
  rendererListeners: new Map<string, Set<(...args: unknown[]) => void>>(),
  invoked: [] as [string, unknown][],
}));

vi.mock('electron', () => ({
  ipcMain: {
    handle: (channel: string, fn: (event: unknown, params: unknown) => Promise<unknown>) =>
      recorded.handlers.set(channel, fn),
    removeHandler: (channel: string) => {
      recorded.removed.push(channel);
      recorded.handlers.delete(channel);
    },
  },
  BrowserWindow: {
    getAllWindows: () =>
      recorded.windows.map((w) => ({
        isDestroyed: () => w.destroyed,
        webContents: { isDestroyed: () => w.destroyed, send: (e: string, p: unknown) => w.sent.push([e, p]) },
      })),
  },
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => recorded.exposed.set(key, api) },
  ipcRenderer: {
    invoke: async (channel: string, params: unknown) => {
      recorded.invoked.push([channel, params]);
      return { ok: true, result: `answer to ${channel}` };
    },
    on: (event: string, listener: (...args: unknown[]) => void) => {
      const set = recorded.rendererListeners.get(event) ?? new Set();
      set.add(listener);
      recorded.rendererListeners.set(event, set);
    },
    removeListener: (event: string, listener: (...args: unknown[]) => void) =>
      recorded.rendererListeners.get(event)?.delete(listener),
  },
}));

const { registerApiHandlers, forwardEvents } = await import('../../../src-main/electron/ipc');

const APP_URL = 'app://renderer/index.html#/wizard';
const trusted = (url: string): boolean => url.startsWith('app://renderer/');
const topFrame = (url: string): unknown => ({ senderFrame: { url, parent: null } });

function handlersAnswering(): Handlers {
  return new Proxy({} as Handlers, {
    get: (_t, channel: string) => async (params: unknown) => ({ channel, params }),
  });
}

beforeEach(() => {
  recorded.handlers.clear();
  recorded.removed.length = 0;
  recorded.windows.length = 0;
  recorded.invoked.length = 0;
  recorded.rendererListeners.clear();
});

describe('main-side IPC wrapper', () => {
  it('registers exactly the contract channels and removes them again', () => {
    const unregister = registerApiHandlers(handlersAnswering(), trusted);
    expect([...recorded.handlers.keys()].sort()).toEqual([...API_CHANNELS].sort());
    unregister();
    expect(recorded.handlers.size).toBe(0);
    expect(recorded.removed.sort()).toEqual([...API_CHANNELS].sort());
  });

  it('answers our own page with the handler result in an envelope', async () => {
    registerApiHandlers(handlersAnswering(), trusted);
    const handle = recorded.handlers.get('runs:get') as Handler;
    expect(await handle(topFrame(APP_URL), { id: 'r1' })).toEqual({
      ok: true,
      result: { channel: 'runs:get', params: { id: 'r1' } },
    });
  });

  it('refuses other pages, sub-frames and frames that went away', async () => {
    registerApiHandlers(handlersAnswering(), trusted);
    const handle = recorded.handlers.get('personas:list') as Handler;
    for (const event of [
      topFrame('https://evil.example/'),
      topFrame('file:///etc/passwd'),
      { senderFrame: { url: APP_URL, parent: { url: 'app://renderer/' } } },
      { senderFrame: null },
    ]) {
      const reply = await handle(event, undefined);
      expect(reply).toMatchObject({ ok: false, error: { code: 'forbidden_sender' } });
    }
  });

  it('broadcasts events to live windows and skips destroyed ones', () => {
    recorded.windows.push({ destroyed: false, sent: [] }, { destroyed: true, sent: [] });
    const events = new StudioEvents();
    const stop = forwardEvents(events);
    events.emit('chat:token', { sessionId: 's', role: 'student', text: 'Ja' });
    expect(recorded.windows[0]!.sent).toEqual([
      ['chat:token', { sessionId: 's', role: 'student', text: 'Ja' }],
    ]);
    expect(recorded.windows[1]!.sent).toEqual([]);
    stop();
    events.emit('chat:token', { sessionId: 's', role: 'student', text: 'again' });
    expect(recorded.windows[0]!.sent).toHaveLength(1);
  });
});

describe('preload', () => {
  it('exposes only invoke and on, forwarding contract channels and events', async () => {
    await import('../../../src-preload/index');
    const studio = recorded.exposed.get('studio') as StudioBridge;
    expect(Object.keys(studio).sort()).toEqual(['invoke', 'on']);

    expect(await studio.invoke('runs:list', undefined)).toEqual({ ok: true, result: 'answer to runs:list' });
    const refused = await studio.invoke('shell:exec' as ApiChannel, { cmd: 'ls' } as never);
    expect(refused).toMatchObject({ ok: false, error: { code: 'unknown_channel' } });
    expect(recorded.invoked.map(([c]) => c)).toEqual(['runs:list']);

    const got: unknown[] = [];
    const off = studio.on('training:metric', (payload) => got.push(payload));
    const noop = studio.on('ipc:anything' as 'chat:token', () => got.push('never'));
    expect(recorded.rendererListeners.has('ipc:anything')).toBe(false);
    const [listener] = [...recorded.rendererListeners.get('training:metric')!];
    // The page gets the payload alone, never the IPC event (which holds `sender`).
    listener!({ sender: 'secret' }, { runId: 'r', point: { step: 1, kind: 'train', loss: 2 } });
    expect(got).toEqual([{ runId: 'r', point: { step: 1, kind: 'train', loss: 2 } }]);
    off();
    noop();
    expect(recorded.rendererListeners.get('training:metric')!.size).toBe(0);
  });
});
