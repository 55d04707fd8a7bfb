/**
 * The Electron shell, kept thin: open the studio (store, engine, runner), build the handlers,
 * register them through ipc.ts, forward events, and show one locked-down window.
 *
 * Security: contextIsolation + sandbox on, nodeIntegration off, webSecurity on; the page comes
 * from the privileged app:// scheme (or the dev server) with a strict CSP; navigation and new
 * windows are refused (https links open in the system browser); permission requests are denied.
 */
import { app, BrowserWindow, net, protocol, session, shell } from 'electron';
import { existsSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RENDERER_CSP } from '../bridge/server';
import { createHandlers } from '../handlers';
import { openStudio, type Studio } from '../studio/studio';
import { resolveDataDir } from '../core/settings';
import { forwardEvents, registerApiHandlers } from './ipc';
import { ElectronSettingsStore } from './settings';

const APP_SCHEME = 'app';
const APP_ORIGIN = `${APP_SCHEME}://renderer`;
const here = fileURLToPath(new URL('.', import.meta.url));
const rendererDir = normalize(join(here, '../renderer'));
const preloadPath = join(here, '../preload/index.cjs');
/** electron-vite sets this in `dev`; in a build the page comes from app://. */
const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;

// Must run before `ready`: app:// behaves like https (secure context, fetch, relative URLs).
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

function isTrustedUrl(url: string): boolean {
  if (url.startsWith(`${APP_ORIGIN}/`)) return true;
  return devServerUrl !== undefined && url.startsWith(devServerUrl);
}

/** Serves out/renderer on app://renderer/ with the CSP; unknown routes get index.html. */
function serveRenderer(): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== 'renderer') return new Response('not found', { status: 404 });
    let file = normalize(join(rendererDir, decodeURIComponent(url.pathname)));
    if (file !== rendererDir && !file.startsWith(rendererDir + sep))
      return new Response('not found', { status: 404 });
    const exists = existsSync(file) && statSync(file).isFile();
    if (!exists) {
      if (extname(file) !== '') return new Response('not found', { status: 404 });
      file = join(rendererDir, 'index.html');
    }
    const response = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(response.headers);
    headers.set('content-security-policy', RENDERER_CSP);
    headers.set('x-content-type-options', 'nosniff');
    return new Response(response.body, { status: response.status, headers });
  });
}

function lockDownSession(): void {
  const ses = session.defaultSession;
  ses.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...details.responseHeaders };
    if (isTrustedUrl(details.url)) headers['Content-Security-Policy'] = [RENDERER_CSP];
    callback({ responseHeaders: headers });
  });
  ses.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    minWidth: 900,
    minHeight: 600,
    title: 'Character Studio',
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.webContents.on('will-navigate', (event, url) => {
    if (!isTrustedUrl(url)) event.preventDefault();
  });
  win.webContents.on('will-attach-webview', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  if (devServerUrl) void win.loadURL(devServerUrl);
  else void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}

async function start(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    // One process owns the database and the engine; a second launch focuses the first.
    app.quit();
    return;
  }
  await app.whenReady();
  lockDownSession();
  serveRenderer();

  // Bundled into out/main, the pipeline cannot find resources/ relative to its own source files.
  process.env.CHARACTER_RESOURCES_DIR ??= join(app.getAppPath(), 'resources');
  const dataDir = resolveDataDir();
  const settings = new ElectronSettingsStore(dataDir);
  const studio: Studio = await openStudio({ dataDir, settings });
  const handlers = createHandlers({ ...studio, app: { version: app.getVersion(), electron: true } });
  const unregister = registerApiHandlers(handlers, isTrustedUrl);
  const stopForwarding = forwardEvents(studio.events);

  createWindow();
  app.on('second-instance', () => {
    const [win] = BrowserWindow.getAllWindows();
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
  app.on('window-all-closed', () => {
    // macOS keeps the app (and any training) alive without windows.
    if (process.platform !== 'darwin') app.quit();
  });

  let closing = false;
  app.on('will-quit', (event) => {
    if (closing) return;
    closing = true;
    event.preventDefault();
    stopForwarding();
    unregister();
    // Shut the engine down cleanly (it may be mid-training) before the process exits.
    void studio.close().finally(() => app.quit());
  });
}

start().catch((error: unknown) => {
  process.stderr.write(
    `[electron] start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  app.exit(1);
});
