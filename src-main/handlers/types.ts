import type {
  ApiChannel,
  ApiParams,
  ApiResult,
  EventChannel,
  EventContract,
} from '../../src-shared/contract';

/** One async function per contract channel: what Electron IPC and the loopback bridge both call. */
export type Handlers = { [C in ApiChannel]: (params: ApiParams<C>) => Promise<ApiResult<C>> };

/** A feed of every pipeline event (StudioEvents satisfies it), forwarded to windows and SSE. */
export interface EventFeed {
  onAny(listener: (event: EventChannel, payload: EventContract[EventChannel]) => void): () => void;
}
