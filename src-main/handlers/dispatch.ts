import {
  isApiChannel,
  type ApiChannel,
  type ApiParams,
  type ApiResponse,
  type ApiResult,
} from '../../src-shared/contract';
import { toErrorPayload } from './errors';
import type { Handlers } from './types';

/**
 * Runs one request and always resolves with an envelope: the single place where both
 * transports (IPC and the loopback bridge) turn thrown errors into ApiErrorPayloads.
 */
export async function dispatch(
  handlers: Handlers,
  channel: string,
  params: unknown,
  onUnexpected: (channel: string, error: unknown) => void = logUnexpected,
): Promise<ApiResponse<ApiChannel>> {
  if (!isApiChannel(channel)) {
    return { ok: false, error: { code: 'unknown_channel', message: `unknown channel: ${channel}` } };
  }
  const handler = handlers[channel] as (p: ApiParams<ApiChannel>) => Promise<unknown>;
  try {
    const result = await handler(params as ApiParams<ApiChannel>);
    // undefined would vanish from JSON; null keeps the reply well-formed.
    return { ok: true, result: (result ?? null) as ApiResult<ApiChannel> };
  } catch (error) {
    const payload = toErrorPayload(error);
    if (payload.code === 'internal') onUnexpected(channel, error);
    return { ok: false, error: payload };
  }
}

function logUnexpected(channel: string, error: unknown): void {
  // stderr only: stdout may be a protocol or CLI output channel. The engine's traceback, which
  // the client never sees (toErrorPayload drops it), is logged here.
  const detail = (error as { detail?: { traceback?: unknown } } | null)?.detail;
  const traceback = typeof detail?.traceback === 'string' ? `\n${detail.traceback}` : '';
  process.stderr.write(
    `[handlers] ${channel} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}${traceback}\n`,
  );
}
