/**
 * Playwright global set-up: build the app when stale, build a tiny random local model (its
 * text is gibberish; it exercises the mechanics in seconds), write settings that make it the
 * teacher and the student, start the real server (with 36 held-out smoke questions) on a fresh data folder, and hand the tests
 * its URL in STUDIO_URL. The returned function is the teardown.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SMOKE_HELD_OUT_ENV } from '../../../src-main/core/scales';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const artifacts = join(root, 'test', 'artifacts');
const tinyModelDir = join(artifacts, 'e2e', 'tiny-model');
/** Held-out questions of the E2E's smoke run (see startServer). */
const E2E_HELD_OUT = 40;
/** The server prints its URL once the studio is open and the bridge listens (ms). */
const SERVER_START_TIMEOUT_MS = 120_000;

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

function buildIfStale(): void {
  const index = join(root, 'out', 'renderer', 'index.html');
  const built = existsSync(index) ? statSync(index).mtimeMs : 0;
  const sources = Math.max(newestMtime(join(root, 'src-renderer')), newestMtime(join(root, 'src-shared')));
  if (built >= sources) return;
  process.stderr.write('[e2e] building the app (electron-vite build)\n');
  const result = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  if (result.status !== 0) throw new Error(`electron-vite build failed (exit ${result.status})`);
}

function buildTinyModel(): void {
  if (existsSync(join(tinyModelDir, 'config.json'))) return;
  process.stderr.write(`[e2e] building a tiny random model in ${tinyModelDir}\n`);
  mkdirSync(dirname(tinyModelDir), { recursive: true });
  const python = join(root, 'engine', '.venv', 'bin', 'python');
  const result = spawnSync(python, ['-m', 'character_dev.tiny', tinyModelDir], {
    cwd: join(root, 'engine'),
    stdio: 'inherit',
    env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' },
  });
  if (result.status !== 0) throw new Error(`building the tiny model failed (exit ${result.status})`);
}

function startServer(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'test', 'e2e', 'support', 'serve.ts')],
    {
      cwd: root,
      env: {
        ...process.env,
        CHARACTER_STUDIO_HOME: dataDir,
        HF_HUB_OFFLINE: '1',
        TRANSFORMERS_OFFLINE: '1',
        // 40 held-out questions (4 in each of the 10 categories) instead of the smoke scale's 8:
        // the evaluation then holds 12 answers (3 models x 4) in each review category, enough
        // for the 50-response blind sheet (10 x 5) that 02-review rates.
        [SMOKE_HELD_OUT_ENV]: String(E2E_HELD_OUT),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const log: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    log.push(text);
    if (process.env.E2E_VERBOSE) process.stderr.write(`[server] ${text}`);
  });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the E2E server did not start in ${SERVER_START_TIMEOUT_MS} ms:\n${log.join('')}`));
    }, SERVER_START_TIMEOUT_MS);
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const match = /^STUDIO_URL (\S+)$/m.exec(buffered);
      if (match?.[1]) {
        clearTimeout(timer);
        resolvePromise({ child, url: match[1] });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the E2E server exited (code ${code}) before listening:\n${log.join('')}`));
    });
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    // SIGTERM lets the server shut the engine down; SIGKILL if it has not left in 15 s.
    const hard = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(hard);
      resolvePromise();
    });
    child.kill('SIGTERM');
  });
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  buildIfStale();
  buildTinyModel();
  mkdirSync(join(artifacts, 'screenshots'), { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'studio-e2e-'));
  const model = { source: 'local', path: tinyModelDir };
  writeFileSync(
    join(dataDir, 'settings.json'),
    JSON.stringify({ teacherModel: model, studentModel: model, teacherProvider: 'local' }, null, 2),
  );
  const { child, url } = await startServer(dataDir);
  process.env.STUDIO_URL = url;
  process.env.STUDIO_DATA_DIR = dataDir;
  process.env.STUDIO_TINY_MODEL = tinyModelDir;
  return async () => {
    await stopServer(child);
    if (!process.env.E2E_KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
  };
}
