/**
 * One opened Character Studio: data folder, settings, SQLite store, engine client, event bus
 * and pipeline runner. The CLI opens one per invocation; the Electron shell and the loopback
 * bridge open one per process and hand it to the IPC handlers.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { databasePath, engineLogPath } from '../core/paths';
import { EngineClient, type EngineClientOptions } from '../engine/client';
import { openStore, type Store } from '../store';
import { PipelineEvents } from '../core/events';
import { PipelineRunner, type StepTable } from './runner';
import { onRunChanged } from './runs-csv';
import { distillationSteps } from './steps/index';
import { JsonFileSettingsStore, resolveDataDir, type SettingsStore } from '../core/settings';

export interface Studio {
  dataDir: string;
  settings: SettingsStore;
  store: Store;
  engine: EngineClient;
  events: PipelineEvents;
  runner: PipelineRunner;
  close(): Promise<void>;
}

export interface OpenStudioOptions {
  dataDir?: string;
  settings?: SettingsStore;
  engine?: EngineClient;
  engineOptions?: EngineClientOptions;
  /** Build the step table from the opened studio (default: the distillation steps). */
  steps?: (studio: Omit<Studio, 'runner' | 'close'>) => StepTable;
  /** Called with every engine stderr line as well as the log file (e.g. --verbose). */
  onEngineLog?: (line: string) => void;
}

export async function openStudio(opts: OpenStudioOptions = {}): Promise<Studio> {
  const dataDir = opts.dataDir ?? resolveDataDir();
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  const settings = opts.settings ?? new JsonFileSettingsStore(dataDir);
  const store = openStore(databasePath(dataDir));
  const logFile = engineLogPath(dataDir);
  const engine =
    opts.engine ??
    new EngineClient({
      ...opts.engineOptions,
      logger: (line, source) => {
        try {
          appendFileSync(logFile, `${source === 'client' ? '[client] ' : ''}${line}\n`);
        } catch {
          /* a full disk must not stop the pipeline's own error from surfacing */
        }
        opts.onEngineLog?.(line);
      },
    });
  const events = new PipelineEvents();
  const base = { dataDir, settings, store, engine, events };
  const steps = opts.steps ? opts.steps(base) : distillationSteps(base);
  const runner = new PipelineRunner({
    runs: store.runs,
    dataDir,
    events,
    steps,
    onRunChanged: (run) => onRunChanged(base, run),
  });
  let closed = false;
  return {
    ...base,
    runner,
    close: async () => {
      if (closed) return;
      closed = true;
      if (!opts.engine) await engine.close();
      store.close();
    },
  };
}
