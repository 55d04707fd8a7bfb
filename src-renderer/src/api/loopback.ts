import type {
  ApiChannel,
  ApiParams,
  ApiResponse,
  ApiResult,
  EventChannel,
  EventContract,
  StudioApi,
} from '../../../src-shared/contract';
import { ApiError, toApiError } from './errors';

/** Header the loopback bridge reads the session token from (EventSource sends it as ?token=). */
export const TOKEN_HEADER = 'x-studio-token';

/** The part of EventSource the client uses (typed here so the module also compiles for Node). */
export interface EventSourceLike {
  addEventListener(type: string, listener: (message: { data: string }) => void): void;
  removeEventListener(type: string, listener: (message: { data: string }) => void): void;
  close(): void;
}
export type EventSourceConstructor = new (url: string) => EventSourceLike;

export interface LoopbackOptions {
  /** Origin of the bridge, e.g. "http://127.0.0.1:5174"; the page's own origin in the browser build. */
  baseUrl: string;
  token: string;
  fetch?: typeof fetch;
  EventSource?: EventSourceConstructor;
}

/**
 * The StudioApi over the loopback bridge: POST /api/<channel> for requests, one shared
 * EventSource on /api/events for every event subscription (opened on the first `on`).
 */
export function createLoopbackApi(options: LoopbackOptions): StudioApi {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const EventSourceCtor =
    options.EventSource ?? (globalThis as { EventSource?: EventSourceConstructor }).EventSource ?? null;
  let source: EventSourceLike | null = null;
  let subscribers = 0;

  async function invoke<C extends ApiChannel>(channel: C, params: ApiParams<C>): Promise<ApiResult<C>> {
    let reply: ApiResponse<C>;
    try {
      const response = await doFetch(`${base}/api/${channel}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [TOKEN_HEADER]: options.token },
        body: JSON.stringify(params ?? null),
      });
      const text = await response.text();
      try {
        reply = JSON.parse(text) as ApiResponse<C>;
      } catch {
        throw new ApiError({
          code: 'bad_response',
          message: `The bridge answered ${channel} with HTTP ${response.status} and no JSON`,
          detail: { status: response.status, body: text.slice(0, 200) },
        });
      }
    } catch (error) {
      throw toApiError(error, 'transport');
    }
    if (reply.ok) return reply.result;
    throw new ApiError(reply.error);
  }

  function on<E extends EventChannel>(event: E, listener: (payload: EventContract[E]) => void): () => void {
    if (!EventSourceCtor) return () => undefined;
    if (!source)
      source = new EventSourceCtor(`${base}/api/events?token=${encodeURIComponent(options.token)}`);
    const current = source;
    const handler = (message: { data: string }): void => {
      listener(JSON.parse(message.data) as EventContract[E]);
    };
    current.addEventListener(event, handler);
    subscribers += 1;
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      current.removeEventListener(event, handler);
      subscribers -= 1;
      // Close the stream when nobody listens, so a page without subscriptions holds no connection.
      if (subscribers === 0 && source === current) {
        current.close();
        source = null;
      }
    };
  }

  return { invoke, on };
}
