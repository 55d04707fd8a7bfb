/**
 * A test double of the renderer's transport only (src-renderer/src/api): tests register what each
 * channel answers and read back what the stores asked for. Nothing here pretends to be a model.
 */
import { vi } from 'vitest';
import type {
  ApiChannel,
  ApiParams,
  ApiResult,
  EventChannel,
  ErrorCode,
  EventContract,
} from '../../src-shared/contract';

type Handler<C extends ApiChannel> = (params: ApiParams<C>) => ApiResult<C> | Promise<ApiResult<C>>;

const handlers = new Map<ApiChannel, Handler<ApiChannel>>();
const listeners = new Map<EventChannel, Set<(payload: never) => void>>();

export const calls: { channel: ApiChannel; params: unknown }[] = [];

export const fakeApi = {
  invoke: vi.fn(async <C extends ApiChannel>(channel: C, params: ApiParams<C>): Promise<ApiResult<C>> => {
    calls.push({ channel, params });
    const handler = handlers.get(channel) as Handler<C> | undefined;
    if (!handler) throw Object.assign(new Error(`no handler for ${channel}`), { code: 'not_handled' });
    return handler(params);
  }),
  on: vi.fn(
    <E extends EventChannel>(event: E, listener: (payload: EventContract[E]) => void): (() => void) => {
      const set = listeners.get(event) ?? new Set();
      set.add(listener as (payload: never) => void);
      listeners.set(event, set);
      return () => set.delete(listener as (payload: never) => void);
    },
  ),
};

export function handle<C extends ApiChannel>(channel: C, handler: Handler<C>): void {
  handlers.set(channel, handler as unknown as Handler<ApiChannel>);
}

export function emit<E extends EventChannel>(event: E, payload: EventContract[E]): void {
  for (const listener of listeners.get(event) ?? []) (listener as (p: EventContract[E]) => void)(payload);
}

export function callsTo(channel: ApiChannel): unknown[] {
  return calls.filter((c) => c.channel === channel).map((c) => c.params);
}

export function resetFakeApi(): void {
  handlers.clear();
  listeners.clear();
  calls.length = 0;
  fakeApi.invoke.mockClear();
  fakeApi.on.mockClear();
}

/** An error shaped like the api's ApiError: a code and a message. */
export function apiError(code: ErrorCode, message: string): Error {
  return Object.assign(new Error(message), { code });
}
