/**
 * The one place raw IPC is touched in the main process (lint forbids it elsewhere):
 *  - every contract channel is registered here with ipcMain.handle, and only for senders whose
 *    top frame shows our own renderer (never a navigated-away or embedded page);
 *  - events go to every live window; destroyed windows are skipped, not crashed on.
 */
import { BrowserWindow, ipcMain, type IpcMainInvokeEvent } from 'electron';
import {
  API_CHANNELS,
  type ApiChannel,
  type ApiResponse,
  type EventChannel,
  type EventContract,
} from '../../src-shared/contract';
import { dispatch } from '../handlers/dispatch';
import type { EventFeed, Handlers } from '../handlers/types';

/** Decides whether a frame URL is our renderer (app://renderer/... or the dev server). */
export type TrustedUrl = (url: string) => boolean;

function senderIsTrusted(event: IpcMainInvokeEvent, trusted: TrustedUrl): boolean {
  const frame = event.senderFrame;
  // null: the frame navigated or was destroyed while the message was in flight.
  if (!frame) return false;
  // Only the top frame speaks for the app; iframes (none are expected) never do.
  if (frame.parent !== null) return false;
  return trusted(frame.url);
}

/** Registers every contract channel; returns a function that removes them all again. */
export function registerApiHandlers(handlers: Handlers, trusted: TrustedUrl): () => void {
  for (const channel of API_CHANNELS) {
    ipcMain.handle(channel, async (event, params: unknown): Promise<ApiResponse<ApiChannel>> => {
      if (!senderIsTrusted(event, trusted)) {
        return {
          ok: false,
          error: {
            code: 'forbidden_sender',
            message: `IPC ${channel} refused: the sender is not the app's page`,
          },
        };
      }
      return dispatch(handlers, channel, params);
    });
  }
  return () => {
    for (const channel of API_CHANNELS) ipcMain.removeHandler(channel);
  };
}

/** Sends one event to every window still alive. */
export function broadcast<E extends EventChannel>(event: E, payload: EventContract[E]): void {
  for (const win of BrowserWindow.getAllWindows()) {
    if (win.isDestroyed() || win.webContents.isDestroyed()) continue;
    win.webContents.send(event, payload);
  }
}

/** Forwards every pipeline event to the windows; returns the unsubscribe function. */
export function forwardEvents(feed: EventFeed): () => void {
  return feed.onAny((event, payload) => broadcast(event, payload));
}
