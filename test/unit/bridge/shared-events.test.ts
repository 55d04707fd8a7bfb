/**
 * Tabs share one event stream (issue 18, defect 4): with eight "tabs" (eight shared sources on
 * one in-memory BroadcastChannel bus and one lock manager) exactly one real EventSource is open;
 * every tab gets every event; closing the leader hands the stream to a waiting tab.
 */
import { describe, expect, it } from 'vitest';
import {
  sharedEventSource,
  type BroadcastChannelLike,
  type LockManagerLike,
} from '../../../src-renderer/src/api/shared-events';
import type { EventSourceLike } from '../../../src-renderer/src/api/loopback';

type Listener = (message: { data: string }) => void;

/** A server-side stream stand-in: records open sources so the test can push events into them. */
const open = new Set<FakeEventSource>();
class FakeEventSource implements EventSourceLike {
  private readonly listeners = new Map<string, Set<Listener>>();
  constructor(readonly url: string) {
    open.add(this);
  }
  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, (this.listeners.get(type) ?? new Set()).add(listener));
  }
  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener);
  }
  close(): void {
    open.delete(this);
  }
  push(type: string, payload: unknown): void {
    for (const l of this.listeners.get(type) ?? []) l({ data: JSON.stringify(payload) });
  }
}

/** BroadcastChannel semantics: a message reaches every other open channel of the same name. */
function bus(): new (name: string) => BroadcastChannelLike {
  const members = new Set<{ name: string; deliver: (data: unknown) => void; self: object }>();
  return class implements BroadcastChannelLike {
    private readonly listeners: ((event: { data: unknown }) => void)[] = [];
    private readonly member;
    constructor(name: string) {
      this.member = {
        name,
        self: this,
        deliver: (data: unknown) => queueMicrotask(() => this.listeners.forEach((l) => l({ data }))),
      };
      members.add(this.member);
    }
    postMessage(message: unknown): void {
      const copy = structuredClone(message);
      for (const m of members) if (m.self !== this && m.name === this.member.name) m.deliver(copy);
    }
    addEventListener(_type: 'message', listener: (event: { data: unknown }) => void): void {
      this.listeners.push(listener);
    }
    close(): void {
      members.delete(this.member);
    }
  };
}

/** Web Locks semantics for exclusive locks: granted in request order, released when the callback settles. */
function lockManager(): LockManagerLike {
  const queues = new Map<string, { run: () => void; signal: AbortSignal }[]>();
  const held = new Set<string>();
  const next = (name: string): void => {
    if (held.has(name)) return;
    const queue = queues.get(name) ?? [];
    const waiter = queue.shift();
    if (waiter) waiter.run();
  };
  return {
    request(name, { signal }, callback) {
      return new Promise((resolve, reject) => {
        const entry = {
          signal,
          run: () => {
            held.add(name);
            void callback().finally(() => {
              held.delete(name);
              resolve(undefined);
              next(name);
            });
          },
        };
        signal.addEventListener('abort', () => {
          const queue = queues.get(name) ?? [];
          const i = queue.indexOf(entry);
          if (i >= 0) {
            queue.splice(i, 1);
            reject(new DOMException('aborted', 'AbortError'));
          }
        });
        queues.set(name, [...(queues.get(name) ?? []), entry]);
        next(name);
      });
    },
  };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
};

describe('shared event source', () => {
  it('eight tabs hold one stream, all receive each event, and a closed leader hands over', async () => {
    open.clear();
    const Shared = sharedEventSource({
      name: 'studio-events:t',
      EventSource: FakeEventSource,
      BroadcastChannel: bus(),
      locks: lockManager(),
    });
    const received: string[][] = [];
    const tabs = Array.from({ length: 8 }, (_, i) => {
      const tab = new Shared('/api/events?token=t');
      received[i] = [];
      tab.addEventListener('run:status', (m) => received[i]!.push(m.data));
      return tab;
    });
    await flush();
    expect(open.size).toBe(1);
    const [first] = [...open];
    first!.push('run:status', { id: 'run-1' });
    await flush();
    expect(received.map((r) => r.length)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(JSON.parse(received[7]![0]!)).toEqual({ id: 'run-1' });

    // The leader's tab goes away: the next tab in line opens the stream; still exactly one.
    tabs[0]!.close();
    await flush();
    expect(open.size).toBe(1);
    const [second] = [...open];
    expect(second).not.toBe(first);
    second!.push('run:status', { id: 'run-2' });
    await flush();
    expect(received.map((r) => r.length)).toEqual([1, 2, 2, 2, 2, 2, 2, 2]);

    // A follower that closes never opened a stream and leaves the leader alone.
    tabs[5]!.close();
    await flush();
    expect([...open]).toEqual([second]);
    for (const tab of tabs) tab.close();
    await flush();
    expect(open.size).toBe(0);
  });
});
