import { isErrorCode, type ApiErrorPayload } from '../../../src-shared/contract';

/** Any rejection from `api` (an ApiError, or anything else thrown) as the {code, message} the UI shows. */
export function toErrorPayload(error: unknown): ApiErrorPayload {
  if (error && typeof error === 'object') {
    const record = error as { code?: unknown; message?: unknown; detail?: unknown };
    const code = isErrorCode(record.code) ? record.code : 'internal';
    const message = typeof record.message === 'string' ? record.message : String(error);
    const detail =
      record.detail && typeof record.detail === 'object'
        ? (record.detail as Record<string, unknown>)
        : undefined;
    return detail ? { code, message, detail } : { code, message };
  }
  return { code: 'internal', message: String(error) };
}

/** localStorage that never throws (disabled storage, jsdom, private windows). */
export const safeStorage = {
  get(key: string): string | null {
    try {
      return globalThis.localStorage?.getItem(key) ?? null;
    } catch {
      return null;
    }
  },
  set(key: string, value: string | null): void {
    try {
      if (value === null) globalThis.localStorage?.removeItem(key);
      else globalThis.localStorage?.setItem(key, value);
    } catch {
      // Remembering the selection is a convenience; the app works without it.
    }
  },
};
