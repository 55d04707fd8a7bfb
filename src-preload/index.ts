/**
 * The preload: exposes window.studio = { invoke, on } and nothing else. ipcRenderer itself never
 * reaches the page. invoke forwards only contract channels; on subscribes only to contract
 * events and hands the listener the payload alone (never the IPC event, which holds `sender`).
 * Runs sandboxed, so it is bundled to CommonJS (see electron.vite.config.ts).
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
