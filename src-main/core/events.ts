/**
 * The studio's event bus: the shapes of EventContract ('run:status', 'job:progress',
 * 'training:metric', 'training:checkpoint', 'chat:token'). The CLI prints them; the Electron
 * shell and the loopback bridge forward them to windows.
 */
import type { EventChannel, EventContract } from '../../src-shared/contract';

export type EventListener<E extends EventChannel> = (payload: EventContract[E]) => void;
type AnyListener = (event: EventChannel, payload: EventContract[EventChannel]) => void;

export class StudioEvents {
  private readonly listeners = new Map<EventChannel, Set<(payload: never) => void>>();
  private readonly anyListeners = new Set<AnyListener>();

  on<E extends EventChannel>(event: E, listener: EventListener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => {
      set.delete(listener as (payload: never) => void);
    };
  }

  /** Every event, for forwarders (IPC, SSE). */
  onAny(listener: AnyListener): () => void {
    this.anyListeners.add(listener);
    return () => {
      this.anyListeners.delete(listener);
    };
  }

  emit<E extends EventChannel>(event: E, payload: EventContract[E]): void {
    const set = this.listeners.get(event);
    // A throwing listener (a closed window, a broken pipe) must not stop the pipeline.
    if (set) {
      for (const l of [...set]) {
        try {
          (l as EventListener<E>)(payload);
        } catch {
          /* listener failures are the listener's problem */
        }
      }
    }
    for (const l of [...this.anyListeners]) {
      try {
        l(event, payload);
      } catch {
        /* see above */
      }
    }
  }
}
