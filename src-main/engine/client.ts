/**
 * EngineClient: spawns the Python engine (`python -m character_engine`) and speaks the JSON-lines
 * contract of src-shared/engine-protocol.ts. One process, many concurrent requests: each request
 * has an id and waits in a Map until its `result` or `error` line arrives; events for it are
 * forwarded to the caller's onEvent. When the process dies every pending call is rejected with
 * EngineExitedError and the next call starts a fresh process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  EngineEvent,
  EngineMethod,
  EngineMethods,
  EngineRequest,
  HealthResult,
} from '../../src-shared/engine-protocol';
import {
  EngineCancelledError,
  EngineError,
  EngineExitedError,
  EngineProtocolError,
  EngineSpawnError,
  EngineTimeoutError,
  engineErrorFromPayload,
} from './errors';
import { LineSplitter, parseEngineLine } from './lines';
import { errorText } from '../core/errors';

/** stderr lines kept for error messages. */
const DEFAULT_STDERR_LINES = 200;
/** How long close() waits for the engine to exit after `shutdown` before killing it (ms). */
const DEFAULT_SHUTDOWN_GRACE_MS = 5_000;
/** After SIGTERM, how long to wait before SIGKILL (ms). */
const KILL_ESCALATION_MS = 2_000;
/** After `exit`, how long to wait for stdout to drain (`close`) before settling pending calls (ms). */
const EXIT_DRAIN_MS = 1_000;

export type EngineLogSource = 'stderr' | 'client';
export type EngineLogger = (line: string, source: EngineLogSource) => void;

export interface EngineClientOptions {
  /** Python interpreter; default env CHARACTER_ENGINE_PYTHON, else engine/.venv's python. */
  python?: string;
  /** Working directory of the engine; default <repo>/engine. */
  engineDir?: string;
  /** Arguments after the interpreter; default ['-m', 'character_engine']. */
  args?: string[];
  /** Extra environment for the engine process (merged over process.env). */
  env?: Record<string, string>;
  /** Receives every stderr line of the engine and the client's own warnings. */
  logger?: EngineLogger;
  /** How many stderr lines to keep for error messages (default 200). */
  stderrLines?: number;
  /** Grace period of close() before the process is killed (ms, default 5000). */
  shutdownGraceMs?: number;
  /** Timeout applied to calls that do not pass their own (ms); none by default. */
  defaultTimeoutMs?: number;
}

export interface CallOptions {
  onEvent?: (event: EngineEvent) => void;
  signal?: AbortSignal;
  /** Reject with EngineTimeoutError (and cancel the request in the engine) after this many ms. */
  timeoutMs?: number;
}

export interface EngineClientStats {
  pid: number | null;
  /** How many processes this client has started. */
  starts: number;
  pending: number;
  /** stdout lines that were not protocol messages, since the client was made. */
  protocolErrors: number;
  lastProtocolError: string | null;
}

interface Pending {
  id: string;
  method: string;
  onEvent: ((event: EngineEvent) => void) | undefined;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  cleanup: () => void;
  /** Internal calls (cancel) whose outcome nobody waits for. */
  internal: boolean;
  /** The process the request was written to; only its exit rejects the request. */
  proc: Proc;
}

interface Proc {
  child: ChildProcessWithoutNullStreams;
  exited: Promise<void>;
  finished: boolean;
}

/** Repo root, found relative to this file (src-main/engine/ in source, out/main/ when bundled). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'engine', 'pyproject.toml'))) return dir;
    dir = path.dirname(dir);
  }
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** The engine's python: env CHARACTER_ENGINE_PYTHON, else the private venv in engine/.venv. */
export function defaultEnginePython(root: string = repoRoot()): string {
  const fromEnv = process.env.CHARACTER_ENGINE_PYTHON;
  if (fromEnv) return fromEnv;
  return process.platform === 'win32'
    ? path.join(root, 'engine', '.venv', 'Scripts', 'python.exe')
    : path.join(root, 'engine', '.venv', 'bin', 'python');
}

export class EngineClient {
  private readonly python: string;
  private readonly engineDir: string;
  private readonly args: string[];
  private readonly env: Record<string, string>;
  private readonly logger: EngineLogger | undefined;
  private readonly stderrMax: number;
  private readonly graceMs: number;
  private readonly defaultTimeoutMs: number | undefined;

  private proc: Proc | null = null;
  private readonly pending = new Map<string, Pending>();
  private nextId = 0;
  private starts = 0;
  private protocolErrors = 0;
  private lastProtocolError: string | null = null;
  private readonly stderrRing: string[] = [];

  constructor(options: EngineClientOptions = {}) {
    const root = repoRoot();
    this.python = options.python ?? defaultEnginePython(root);
    this.engineDir = options.engineDir ?? path.join(root, 'engine');
    this.args = options.args ?? ['-m', 'character_engine'];
    this.env = options.env ?? {};
    this.logger = options.logger;
    this.stderrMax = options.stderrLines ?? DEFAULT_STDERR_LINES;
    this.graceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
    this.defaultTimeoutMs = options.defaultTimeoutMs;
  }

  /** The Python interpreter the engine runs in (what DEPLOYMENT.md tells a reader to run). */
  get pythonPath(): string {
    return this.python.includes(path.sep) ? path.resolve(this.python) : this.python;
  }

  /** Send one request; resolves with its result or rejects with an EngineError subclass. */
  call<M extends EngineMethod>(
    method: M,
    params: EngineMethods[M]['params'],
    opts: CallOptions = {},
  ): Promise<EngineMethods[M]['result']> {
    return this.send(method, params, opts, false) as Promise<EngineMethods[M]['result']>;
  }

  health(opts: CallOptions = {}): Promise<HealthResult> {
    return this.call('health', {}, opts);
  }

  /** The last stderr lines of the engine (oldest first). */
  stderrTail(lines = 20): string[] {
    return this.stderrRing.slice(-lines);
  }

  stats(): EngineClientStats {
    return {
      pid: this.proc && !this.proc.finished ? (this.proc.child.pid ?? null) : null,
      starts: this.starts,
      pending: [...this.pending.values()].filter((p) => !p.internal).length,
      protocolErrors: this.protocolErrors,
      lastProtocolError: this.lastProtocolError,
    };
  }

  /** Whether an engine process is running now. */
  get running(): boolean {
    const p = this.proc;
    return p !== null && !p.finished && p.child.exitCode === null && p.child.signalCode === null;
  }

  /**
   * Ask the engine to shut down, wait up to the grace period, then kill it. Pending calls reject
   * with EngineExitedError. The client stays usable: a later call starts a new process.
   */
  async close(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.finished) return;
    try {
      // Only a live engine is asked: send() would start a new one to replace an exited one.
      if (this.running) this.send('shutdown', {}, {}, true).catch(() => undefined);
      proc.child.stdin.end();
    } catch {
      // stdin already closed: the process is on its way out.
    }
    if (await settlesWithin(proc.exited, this.graceMs)) return;
    this.log(`engine did not exit within ${this.graceMs} ms of shutdown; sending SIGTERM`);
    proc.child.kill('SIGTERM');
    if (await settlesWithin(proc.exited, KILL_ESCALATION_MS)) return;
    proc.child.kill('SIGKILL');
    await proc.exited;
  }

  private send(method: string, params: unknown, opts: CallOptions, internal: boolean): Promise<unknown> {
    if (opts.signal?.aborted) return Promise.reject(new EngineCancelledError(method, null));
    let proc: Proc;
    try {
      proc = this.ensureProcess();
    } catch (err) {
      return Promise.reject(err);
    }
    const id = `r${++this.nextId}`;
    return new Promise<unknown>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        this.cancelPending(id, new EngineCancelledError(method, id));
      };
      const entry: Pending = {
        id,
        method,
        onEvent: opts.onEvent,
        resolve,
        reject,
        internal,
        proc,
        cleanup: () => {
          if (timer) clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
        },
      };
      this.pending.set(id, entry);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const timeoutMs = opts.timeoutMs ?? (internal ? undefined : this.defaultTimeoutMs);
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => this.cancelPending(id, new EngineTimeoutError(method, id, timeoutMs)), timeoutMs);
      }
      const request: EngineRequest = { id, method: method as EngineMethod, params: params as never };
      this.write(proc, request);
    });
  }

  /** Reject a pending call now and tell the engine to stop working on it. */
  private cancelPending(id: string, err: EngineError): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.settle(id)?.reject(err);
    if (entry.proc === this.proc && this.running) {
      // Fire and forget: the engine answers the cancelled request with a `cancelled` error,
      // which arrives after the caller was already rejected and is dropped.
      this.send('cancel', { target: id }, {}, true).catch(() => undefined);
    }
  }

  private settle(id: string): Pending | undefined {
    const entry = this.pending.get(id);
    if (!entry) return undefined;
    this.pending.delete(id);
    entry.cleanup();
    return entry;
  }

  private write(proc: Proc, message: unknown): void {
    try {
      proc.child.stdin.write(`${JSON.stringify(message)}\n`);
    } catch (err) {
      // The exit handler rejects pending calls; nothing else to do here.
      this.log(`write to engine failed: ${errorText(err)}`);
    }
  }

  private ensureProcess(): Proc {
    const current = this.proc;
    // A child that has exited but whose pipes have not closed yet is as good as gone.
    if (current && !current.finished && current.child.exitCode === null && current.child.signalCode === null) {
      return current;
    }
    if (!existsSync(this.engineDir)) {
      throw new EngineSpawnError(this.python, new Error(`engine folder ${this.engineDir} does not exist`));
    }
    const child = spawn(this.python, this.args, {
      cwd: this.engineDir,
      // CHARACTER_ENGINE_PARENT_PID: the engine stops when this process is gone (parent_watch.py).
      env: {
        ...process.env,
        PYTHONUNBUFFERED: '1',
        PYTHONIOENCODING: 'utf-8',
        CHARACTER_ENGINE_PARENT_PID: String(process.pid),
        ...this.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.starts += 1;
    let markExited: () => void = () => undefined;
    const exited = new Promise<void>((resolve) => {
      markExited = resolve;
    });
    const proc: Proc = { child, exited, finished: false };
    this.proc = proc;

    const out = new LineSplitter();
    const err = new LineSplitter();
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      for (const line of out.push(chunk)) this.onStdoutLine(line);
    });
    child.stderr.on('data', (chunk: string) => {
      for (const line of err.push(chunk)) this.onStderrLine(line);
    });
    // EPIPE when the engine died: the exit handler reports it.
    child.stdin.on('error', (e) => this.log(`engine stdin: ${e.message}`));

    let exitCode: number | null = null;
    let exitSignal: string | null = null;
    let spawnError: Error | null = null;
    let drainTimer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (proc.finished) return;
      proc.finished = true;
      if (drainTimer) clearTimeout(drainTimer);
      const restOut = out.flush();
      if (restOut !== null) this.onStdoutLine(restOut);
      const restErr = err.flush();
      if (restErr !== null) this.onStderrLine(restErr);
      if (this.proc === proc) this.proc = null;
      for (const [id, pending] of [...this.pending]) {
        if (pending.proc !== proc) continue;
        const entry = this.settle(id);
        if (!entry) continue;
        entry.reject(
          spawnError
            ? new EngineSpawnError(this.python, spawnError)
            : new EngineExitedError(entry.method, entry.id, exitCode, exitSignal, this.stderrTail(20)),
        );
      }
      markExited();
    };
    child.on('error', (e) => {
      // Failed to spawn (ENOENT) or to kill; only the first matters for pending calls.
      if (child.pid === undefined) {
        spawnError = e;
        finish();
      } else {
        this.log(`engine process error: ${e.message}`);
      }
    });
    child.on('exit', (code, signal) => {
      exitCode = code;
      exitSignal = signal;
      // Let stdout drain (replies written just before exit), but do not wait forever for a
      // grandchild that keeps the pipe open.
      drainTimer = setTimeout(finish, EXIT_DRAIN_MS);
    });
    child.on('close', (code, signal) => {
      exitCode = exitCode ?? code;
      exitSignal = exitSignal ?? signal;
      finish();
    });
    return proc;
  }

  private onStdoutLine(line: string): void {
    const parsed = parseEngineLine(line);
    switch (parsed.kind) {
      case 'empty':
        return;
      case 'result':
        this.settle(parsed.id)?.resolve(parsed.result);
        return;
      case 'error': {
        const entry = this.settle(parsed.id);
        entry?.reject(engineErrorFromPayload(parsed.error, entry.method, entry.id));
        return;
      }
      case 'event': {
        const entry = this.pending.get(parsed.id);
        if (!entry?.onEvent) return;
        try {
          entry.onEvent(parsed.event);
        } catch (e) {
          this.log(`onEvent handler for ${entry.method} threw: ${errorText(e)}`);
        }
        return;
      }
      case 'unknown_event':
        this.log(`ignoring unknown engine event "${parsed.name}" for ${parsed.id}`);
        return;
      case 'garbage': {
        this.protocolErrors += 1;
        this.lastProtocolError = parsed.line;
        this.log(`engine wrote a non-protocol line on stdout (${parsed.reason}): ${parsed.line}`);
        // The reply of the request named in the damaged line is lost: fail that call now
        // rather than let it wait forever.
        const entry = parsed.id ? this.settle(parsed.id) : undefined;
        entry?.reject(new EngineProtocolError(parsed.line, parsed.reason, entry.method, entry.id));
        return;
      }
    }
  }

  private onStderrLine(line: string): void {
    this.stderrRing.push(line);
    if (this.stderrRing.length > this.stderrMax) this.stderrRing.splice(0, this.stderrRing.length - this.stderrMax);
    this.logger?.(line, 'stderr');
  }

  private log(message: string): void {
    this.logger?.(message, 'client');
  }
}

function settlesWithin(p: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void p.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
