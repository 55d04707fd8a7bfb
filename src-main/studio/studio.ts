/**
 * One opened Character Studio, built here and passed down: data folder, settings, SQLite
 * store, engine client, event bus, persona library, checkpoint registry, chat and the pipeline
 * runner. Nothing below keeps a module-level copy of any of these: the CLI opens one studio per
 * invocation; the Electron shell and the loopback bridge open one per process and hand it to the
 * IPC handlers.
 */
import { appendFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ChatService } from '../chat/service';
import { StudioEvents } from '../core/events';
import { engineLogPath, makeDir } from '../core/paths';
import { JsonFileSettingsStore, resolveDataDir, type SettingsStore } from '../core/settings';
import { EngineClient, type EngineClientOptions } from '../engine/client';
import { personaLibrary } from '../personas';
import { PipelineRunner, type StepTable } from '../pipeline/runner';
import { onRunChanged } from '../doctor/runs-csv';
import type { PipelineServices } from '../pipeline/services';
import { stepTable } from '../pipeline/step-table';
import { createRegistry } from '../registry';
import { openDataStore, startDailyBackups } from '../store/open';

export interface Studio extends PipelineServices {
  chat: ChatService;
  runner: PipelineRunner;
  close(): Promise<void>;
}

export interface OpenStudioOptions {
  dataDir?: string;
  settings?: SettingsStore;
  engine?: EngineClient;
  engineOptions?: EngineClientOptions;
  /** Build the step table from the studio's services (default: the pipeline's step table). */
  steps?: (services: PipelineServices) => StepTable;
  /** Called with every engine stderr line as well as the log file (e.g. --verbose). */
  onEngineLog?: (line: string) => void;
  /** Problems that do not stop the studio (a daily backup that failed); default: stderr. */
  onWarning?: (message: string) => void;
}

export async function openStudio(opts: OpenStudioOptions = {}): Promise<Studio> {
  const dataDir = opts.dataDir ?? resolveDataDir();
  makeDir(join(dataDir, 'logs'));
  const settings = opts.settings ?? new JsonFileSettingsStore(dataDir);
  // Refuses an empty or damaged database over a folder with runs; backs up before migrating.
  const warn = opts.onWarning ?? ((m: string): void => void process.stderr.write(`warning: ${m}\n`));
  const store = await openDataStore(dataDir, warn);
  const stopBackups = startDailyBackups(store, dataDir, (e) => warn(`the daily backup failed: ${e.message}`));
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
  const events = new StudioEvents();
  // The library syncs the built-in personas into the store, once per studio.
  const personas = personaLibrary(store);
  const registry = createRegistry(store);
  const services: PipelineServices = { dataDir, settings, store, engine, events, personas, registry };
  const chat = new ChatService({ store, engine, events, settings, personas });
  const runner = new PipelineRunner({
    runs: store.runs,
    dataDir,
    events,
    steps: (opts.steps ?? stepTable)(services),
    onRunChanged: (run) => onRunChanged(services, run),
    owners: store.owners,
    owner: { command: ownerLabel(), enginePid: () => engine.stats().pid },
  });
  // Runs left running by a process that died are shown interrupted, with the resume command.
  try {
    for (const id of store.owners.markInterrupted()) onRunChanged(services, store.runs.require(id));
  } catch {
    /* a busy database or a read-only runs.csv: the next listing marks them (runs:list, runs) */
  }
  let closed = false;
  return {
    ...services,
    chat,
    runner,
    close: async () => {
      if (closed) return;
      closed = true;
      stopBackups();
      if (!opts.engine) await engine.close();
      store.close();
    },
  };
}

/** Who owns a run, as a refused second process is told: the CLI command line, or the app. */
function ownerLabel(): string {
  const script = basename(process.argv[1] ?? '');
  return script.startsWith('character')
    ? `character ${process.argv.slice(2, 5).join(' ')}`.trim() // the command, never later flags' values
    : 'the Character Studio app';
}
