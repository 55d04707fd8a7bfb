/**
 * What the reliability tests share: the real CLI (`node bin/character.mjs`) in a child process
 * with its own data folder, a bounded wait, and the tiny random model the engine builds locally.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');
export const PYTHON = join(ROOT, 'engine', '.venv', 'bin', 'python');
const CLI = join(ROOT, 'bin', 'character.mjs');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Called once the child is spawned (to poll, kill, ...). */
  onStart?: (child: ChildProcess) => void;
  /** Run as this user (root only: permissions do not stop root). */
  uid?: number;
  gid?: number;
  /** Killed (SIGKILL) after this long; the result then has signal SIGKILL. Default 5 minutes. */
  timeoutMs?: number;
  /** More environment variables for the child. */
  env?: Record<string, string>;
}

export function cli(args: string[], home: string, opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        CHARACTER_STUDIO_HOME: home,
        HOME: home,
        CI: '1',
        // One torch thread: the tiny model gains nothing from two on a shared machine.
        CHARACTER_ENGINE_THREADS: process.env.CHARACTER_ENGINE_THREADS ?? '1',
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    opts.onStart?.(child);
  });
}

export function jsonOut<T>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`CLI stdout is not JSON (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

/** Polls `check` every `everyMs` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The engine's tiny random model (seconds to build), for CLI runs that train and evaluate. */
export function buildTinyModel(dir: string): void {
  const built = spawnSync(PYTHON, ['-m', 'character_dev.tiny', dir], {
    cwd: join(ROOT, 'engine'),
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`tiny model build failed: ${built.stderr}`);
}
