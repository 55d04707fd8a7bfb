/**
 * The renderer's one door to the main side. Pages and stores import `api` from here:
 *  - inside Electron, the preload's window.studio (IPC);
 *  - in a plain browser (the `character serve` build and the E2E tests), the loopback bridge
 *    on the page's own origin, with the session token the bridge put in the page.
 */
import type { StudioApi, StudioBridge } from '../../../src-shared/contract';
import { createElectronApi } from './electron';
import { ApiError } from './errors';
import { createLoopbackApi, type EventSourceConstructor } from './loopback';
import { browserSharedEventSource } from './shared-events';

export { ApiError } from './errors';
export { createLoopbackApi, TOKEN_HEADER } from './loopback';
export { createElectronApi } from './electron';

const TOKEN_STORAGE_KEY = 'studio-token';

declare global {
  interface Window {
    studio?: StudioBridge;
  }
}

/** The bridge's session token: a <meta name="studio-token"> it injected, else ?token= in the URL. */
export function findLoopbackToken(): string | null {
  if (typeof document === 'undefined' || typeof location === 'undefined') return null;
  const meta = document.querySelector<HTMLMetaElement>('meta[name="studio-token"]')?.content;
  const fromUrl = new URLSearchParams(location.search).get('token');
  let token = meta || fromUrl || null;
  try {
    // Remember it for the tab: client-side routing may drop the query string.
    if (token) sessionStorage.setItem(TOKEN_STORAGE_KEY, token);
    else token = sessionStorage.getItem(TOKEN_STORAGE_KEY);
  } catch {
    // Storage can be disabled; the meta tag or URL still works.
  }
  return token;
}

function createApi(): StudioApi {
  if (typeof window !== 'undefined' && window.studio) return createElectronApi(window.studio);
  const token = findLoopbackToken();
  if (token === null || typeof location === 'undefined') {
    const missing = new ApiError({
      code: 'no_backend',
      message: 'No backend: not inside Electron, and the page was not opened through the loopback bridge',
    });
    return { invoke: () => Promise.reject(missing), on: () => () => undefined };
  }
  // Every tab of this bridge session shares one event stream (six tabs froze the app otherwise).
  const native = (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
  const shared = native ? browserSharedEventSource(`studio-events:${token}`, native) : null;
  return createLoopbackApi({ baseUrl: location.origin, token, ...(shared ? { EventSource: shared } : {}) });
}

let instance: StudioApi | null = null;

/** Chosen on first use, so importing this module never touches window (tests, SSR). */
export const api: StudioApi = {
  invoke: (channel, params) => (instance ??= createApi()).invoke(channel, params),
  on: (event, listener) => (instance ??= createApi()).on(event, listener),
};
