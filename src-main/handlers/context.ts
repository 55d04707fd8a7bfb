/**
 * What the handlers are built from: the opened studio's services plus a few facts about the
 * process hosting them. The domain services that keep state (persona library, chat) are built
 * once here and shared by the handler groups.
 */
import type { EngineClient } from '../engine/client';
import type { PipelineEvents } from '../pipeline/events';
import type { PipelineRunner } from '../pipeline/runner';
import type { SettingsStore } from '../pipeline/settings';
import type { Store } from '../store';

export interface HandlerServices {
  dataDir: string;
  settings: SettingsStore;
  store: Store;
  engine: EngineClient;
  events: PipelineEvents;
  runner: PipelineRunner;
  app: { version: string; electron: boolean };
}
