/**
 * The preload: exposes window.studio = { invoke, on } and nothing else. ipcRenderer itself never
 * reaches the page. invoke forwards only contract channels; on subscribes only to contract
 * events and hands the listener the payload alone (never the IPC event, which holds `sender`).
 * Runs sandboxed, so it is bundled to CommonJS (see electron.vite.config.ts).
 *
 * Why one typed invoke(channel, params) and not one named function per operation (STYLE.md
 * principle 3): what principle 3 guards against is the page reaching raw IPC, and that holds here
 * too: the channel is typed as a contract channel at compile time (ApiChannel, with its params
 * and response types) and checked against the contract's list at run time (isApiChannel), so the
 * page can call exactly the operations of src-shared/contract.ts and nothing else, the same set
 * named functions would give. The generic form keeps that set in one place: the renderer's api
 * runs over this bridge or over the loopback HTTP bridge (src-renderer/src/api/loopback.ts, for
 * a browser and the E2E tests) behind one `invoke`, and the main process registers one handler
 * per channel from the same contract; named functions here would be a second list of every
 * operation to keep in step with it, in the one file no test reaches without Electron.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  isApiChannel,
  isEventChannel,
  type ApiChannel,
  type ApiParams,
  type ApiResponse,
  type EventChannel,
  type EventContract,
  type StudioBridge,
} from '../src-shared/contract';

const studio: StudioBridge = {
  invoke<C extends ApiChannel>(channel: C, params: ApiParams<C>): Promise<ApiResponse<C>> {
    if (!isApiChannel(channel)) {
      return Promise.resolve({
        ok: false,
        error: { code: 'unknown_channel', message: `unknown channel: ${String(channel)}` },
      });
    }
    return ipcRenderer.invoke(channel, params) as Promise<ApiResponse<C>>;
  },
  on<E extends EventChannel>(event: E, listener: (payload: EventContract[E]) => void): () => void {
    if (!isEventChannel(event) || typeof listener !== 'function') return () => undefined;
    const wrapped = (_event: IpcRendererEvent, payload: EventContract[E]): void => listener(payload);
    ipcRenderer.on(event, wrapped);
    return () => {
      ipcRenderer.removeListener(event, wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('studio', studio);
