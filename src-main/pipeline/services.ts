/**
 * What pipeline steps and recipes are given: the opened studio's services, as an interface so
 * the pipeline never imports the studio that assembles it (studio/ sits above pipeline/).
 */
import type { StudioEvents } from '../core/events';
import type { SettingsStore } from '../core/settings';
import type { EngineClient } from '../engine/client';
import type { PersonaLibrary } from '../personas';
import type { Registry } from '../registry';
import type { Store } from '../store';

export interface PipelineServices {
  dataDir: string;
  /** Read at each use: a settings change takes effect at once. */
  settings: SettingsStore;
  store: Store;
  engine: EngineClient;
  events: StudioEvents;
  personas: PersonaLibrary;
  registry: Registry;
}
