/**
 * One event stream for every tab of the studio in a browser. Chromium allows six HTTP/1.1
 * connections per origin, and an EventSource holds one for as long as its tab lives: with six
 * tabs the sixth hung on "Loading…", and with five a chat reply in flight starved the other
 * requests (the checkpoint list took 47 s). Here the tabs elect one leader with a Web Lock; only
 * the leader opens the EventSource, and it relays each event to the other tabs over a
 * BroadcastChannel. When the leader's tab closes the lock passes to a waiting tab, which opens
 * the stream in its turn. Where either API is missing, each tab keeps its own EventSource.
 */
import { EVENT_CHANNELS } from '../../../src-shared/contract';
import type { EventSourceConstructor, EventSourceLike } from './loopback';

type Listener = (message: { data: string }) => void;

/** The parts of BroadcastChannel and navigator.locks used here (injectable for tests). */
export interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  close(): void;
}
export type BroadcastChannelConstructor = new (name: string) => BroadcastChannelLike;
export interface LockManagerLike {
  request(name: string, options: { signal: AbortSignal }, callback: () => Promise<void>): Promise<unknown>;
}

export interface SharedEventsOptions {
  /** Names the lock and the channel: tabs of one bridge session (one token) share a stream. */
  name: string;
  EventSource: EventSourceConstructor;
  BroadcastChannel: BroadcastChannelConstructor;
  locks: LockManagerLike;
}

interface Relayed {
  type: string;
  data: string;
}

function isRelayed(value: unknown): value is Relayed {
  const v = value as Partial<Relayed> | null;
  return typeof v?.type === 'string' && typeof v.data === 'string';
}

/**
 * An EventSource constructor whose instances share one real stream across tabs (see above).
 * Each instance is what one tab's loopback client opens; close() gives up leadership, if held.
 */
export function sharedEventSource(options: SharedEventsOptions): EventSourceConstructor {
  return class SharedEventSource implements EventSourceLike {
    private readonly listeners = new Map<string, Set<Listener>>();
    private readonly channel: BroadcastChannelLike;
    private readonly abort = new AbortController();
    private releaseLeadership: (() => void) | null = null;
    private closed = false;

    constructor(url: string) {
      this.channel = new options.BroadcastChannel(options.name);
      this.channel.addEventListener('message', (event) => {
        if (isRelayed(event.data)) this.dispatch(event.data.type, event.data.data);
      });
      options.locks
        .request(options.name, { signal: this.abort.signal }, () => this.lead(url))
        // An abort while waiting for the lock (the tab closed its stream first) is expected.
        .catch(() => undefined);
    }

    /** Holds the lock (and the one EventSource) until close(). */
    private lead(url: string): Promise<void> {
      if (this.closed) return Promise.resolve();
      const source = new options.EventSource(url);
      for (const type of EVENT_CHANNELS) {
        source.addEventListener(type, (message) => {
          this.dispatch(type, message.data);
          this.channel.postMessage({ type, data: message.data } satisfies Relayed);
        });
      }
      return new Promise<void>((resolve) => {
        this.releaseLeadership = () => {
          source.close();
          resolve();
        };
      });
    }

    private dispatch(type: string, data: string): void {
      for (const listener of this.listeners.get(type) ?? []) listener({ data });
    }

    addEventListener(type: string, listener: Listener): void {
      const set = this.listeners.get(type) ?? new Set<Listener>();
      set.add(listener);
      this.listeners.set(type, set);
    }

    removeEventListener(type: string, listener: Listener): void {
      this.listeners.get(type)?.delete(listener);
    }

    close(): void {
      if (this.closed) return;
      this.closed = true;
      this.abort.abort();
      this.releaseLeadership?.();
      this.channel.close();
      this.listeners.clear();
    }
  };
}

/** The shared constructor when this browser has Web Locks and BroadcastChannel, else null. */
export function browserSharedEventSource(
  name: string,
  EventSourceCtor: EventSourceConstructor,
): EventSourceConstructor | null {
  // Through unknown: the DOM's own types are wider than the slices used here.
  const g = globalThis as unknown as {
    BroadcastChannel?: BroadcastChannelConstructor;
    navigator?: { locks?: LockManagerLike };
  };
  if (!g.BroadcastChannel || !g.navigator?.locks) return null;
  return sharedEventSource({
    name,
    EventSource: EventSourceCtor,
    BroadcastChannel: g.BroadcastChannel,
    locks: g.navigator.locks,
  });
}
