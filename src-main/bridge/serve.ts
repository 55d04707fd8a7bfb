/**
 * The app without Electron: open the studio, build the real handlers, serve the built renderer
 * and the API on a loopback URL (what `character demo` and the E2E tests open in a browser).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../engine/client';
import { createHandlers } from '../handlers';
import type { SettingsStore } from '../core/settings';
import { openStudio, type OpenStudioOptions, type Studio } from '../studio/studio';
import { BridgeError, startBridge, type Bridge } from './server';

export interface ServeOptions {
  /** Data folder (default: CHARACTER_STUDIO_HOME or ~/.character-studio). */
  dataDir?: string;
  settings?: SettingsStore;
  /** 0 or absent: a free port. */
  port?: number;
  host?: string;
  /** The built renderer (default <repo>/out/renderer). */
  staticDir?: string;
  /** Build the renderer first when it is missing or older than its sources (default true). */
  build?: boolean;
  /** A studio opened by the caller (the demo reuses its own); it is not closed by close(). */
  studio?: Studio;
  /** Passed to openStudio when the studio is opened here. */
  studioOptions?: Omit<OpenStudioOptions, 'dataDir' | 'settings'>;
  /** Fixed token (tests); random otherwise. */
  token?: string;
  /** Build output and notes (stderr by default). */
  log?: (line: string) => void;
}

export interface ServedApp {
  /** The address to open, token included. */
  url: string;
  bridge: Bridge;
  studio: Studio;
  close(): Promise<void>;
}

export function defaultRendererDir(): string {
  return join(repoRoot(), 'out', 'renderer');
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** True when out/renderer lacks index.html or src-renderer/src-shared changed since it was built. */
export function rendererIsStale(
  root: string = repoRoot(),
  outDir: string = join(root, 'out', 'renderer'),
): boolean {
  const index = join(outDir, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  const sources = ['src-renderer', 'src-shared'].map((d) => join(root, d)).filter((d) => existsSync(d));
  return sources.some((d) => newestMtime(d) > built);
}

/** Runs `electron-vite build` (main, preload and renderer; no Electron binary needed). */
export async function buildApp(
  root: string = repoRoot(),
  log: (line: string) => void = logToStderr,
): Promise<void> {
  const cli = join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
  if (!existsSync(cli)) throw new BridgeError('electron-vite is not installed: run npm ci', { cli });
  log('building the app (electron-vite build) ...');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'build'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') tail.push(line);
      tail.splice(0, Math.max(0, tail.length - 40));
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => reject(new BridgeError(`cannot run electron-vite: ${error.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new BridgeError(`electron-vite build failed (exit ${code})`, { output: tail.join('\n') }));
    });
  });
}

function logToStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

export async function serveApp(opts: ServeOptions = {}): Promise<ServedApp> {
  const log = opts.log ?? logToStderr;
  const staticDir = opts.staticDir ?? defaultRendererDir();
  if (opts.build !== false && opts.staticDir === undefined && rendererIsStale())
    await buildApp(repoRoot(), log);
  if (!existsSync(join(staticDir, 'index.html'))) {
    throw new BridgeError(`no built renderer in ${staticDir}: run npm run build`, { staticDir });
  }
  const ownStudio = opts.studio === undefined;
  const studio =
    opts.studio ??
    (await openStudio({
      ...opts.studioOptions,
      ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
      ...(opts.settings !== undefined ? { settings: opts.settings } : {}),
    }));
  try {
    const handlers = createHandlers({ ...studio, app: { version: appVersion(), electron: false } });
    const bridge = await startBridge({
      handlers,
      events: studio.events,
      staticDir,
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      ...(opts.token !== undefined ? { token: opts.token } : {}),
    });
    return {
      url: bridge.url,
      bridge,
      studio,
      close: async () => {
        await bridge.close();
        if (ownStudio) await studio.close();
      },
    };
  } catch (error) {
    if (ownStudio) await studio.close();
    throw error;
  }
}

function appVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
