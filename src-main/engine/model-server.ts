/**
 * The engine's OpenAI-compatible server (`python -m character_engine serve`) as a child
 * process: one model, optionally with a LoRA adapter, on an HTTP port. The server prints one
 * JSON line on stdout once it listens (`{"event": "listening", "url", "port", "model", ...}`) or
 * fails (`{"event": "error", "error": {...}}`); everything else goes to stderr.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { ModelSpec } from '../../src-shared/engine-protocol';
import { defaultEnginePython, repoRoot } from './client';
import { EngineError, EngineExitedError, EngineSpawnError, engineErrorFromPayload } from './errors';
import { LineSplitter } from './lines';

/** How long the server may take to load its model and listen (ms): a hub download is not counted on. */
const DEFAULT_START_TIMEOUT_MS = 300_000;
/** After SIGTERM, how long close() waits before SIGKILL (ms). */
const KILL_AFTER_MS = 5_000;
/** stderr lines kept for error messages. */
const STDERR_LINES = 50;
/** The server reads its API key from this variable, so the key is not on the command line. */
export const API_KEY_ENV = 'CHARACTER_ENGINE_API_KEY';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export interface ModelServerOptions {
  model: ModelSpec;
  /** A PEFT adapter folder (a checkpoint). */
  adapter?: string;
  /** The id clients send as `model` (default: the adapter's folder name, else the model's name). */
  modelId?: string;
  /** Default 127.0.0.1; anything beyond loopback requires apiKey. */
  host?: string;
  /** 0 picks a free port (the default). */
  port?: number;
  apiKey?: string;
  /** Answers decoded at once, and requests allowed to wait (more get 429). */
  maxBatch?: number;
  maxQueue?: number;
  python?: string;
  engineDir?: string;
  env?: Record<string, string>;
  startTimeoutMs?: number;
  /** Receives the server's stderr lines (its request log among them). */
  onLog?: (line: string) => void;
}

export interface ModelServer {
  /** The OpenAI base URL, e.g. http://127.0.0.1:8000/v1. */
  url: string;
  port: number;
  /** The model id to send. */
  model: string;
  maxModelLen: number;
  apiKeyRequired: boolean;
  /** Resolves with the exit code when the process ends (null when killed by a signal). */
  exited: Promise<number | null>;
  close(): Promise<void>;
}

/** The server's parent pid (serve/app.py watches it): no engine outlives the process that started it. */
export const PARENT_PID_ENV = 'CHARACTER_ENGINE_PARENT_PID';

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The `serve` arguments for a model spec and options (no API key: that travels in the environment). */
export function modelServerArgs(o: ModelServerOptions): string[] {
  const args = ['-m', 'character_engine', 'serve'];
  const m = o.model;
  if (m.source === 'default') args.push('--model-source', 'default');
  else if (m.source === 'hub') {
    args.push('--model-source', 'hub', '--path', m.repo_id);
    if (m.revision) args.push('--revision', m.revision);
    if (m.endpoint) args.push('--endpoint', m.endpoint);
    if (m.cache_dir) args.push('--cache-dir', m.cache_dir);
  } else args.push('--model-source', m.source, '--path', m.path);
  if (o.adapter) args.push('--adapter', o.adapter);
  if (o.modelId) args.push('--model-id', o.modelId);
  args.push('--host', o.host ?? '127.0.0.1', '--port', String(o.port ?? 0));
  if (o.maxBatch !== undefined) args.push('--max-batch', String(o.maxBatch));
  if (o.maxQueue !== undefined) args.push('--max-queue', String(o.maxQueue));
  return args;
}

interface Listening {
  url: string;
  port: number;
  model: string;
  max_model_len: number;
  api_key_required: boolean;
}

/** Starts the server and resolves once it listens; rejects (and kills it) when it cannot. */
export async function startModelServer(o: ModelServerOptions): Promise<ModelServer> {
  const host = o.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && !o.apiKey) {
    throw new EngineError(`serving on ${host} (beyond loopback) needs an API key`, 'invalid_params', null, null, {
      param: 'apiKey',
    });
  }
  const root = repoRoot();
  const python = o.python ?? defaultEnginePython(root);
  const child = spawn(python, modelServerArgs(o), {
    cwd: o.engineDir ?? path.join(root, 'engine'),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PYTHONUNBUFFERED: '1',
      TOKENIZERS_PARALLELISM: 'false',
      ...(o.apiKey ? { [API_KEY_ENV]: o.apiKey } : {}),
      // The server stops when this process is gone, however it ended (kill -9, the app quitting).
      [PARENT_PID_ENV]: String(process.pid),
      ...o.env,
    },
  });
  const stderr: string[] = [];
  const errLines = new LineSplitter();
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    for (const line of errLines.push(chunk)) {
      stderr.push(line);
      if (stderr.length > STDERR_LINES) stderr.shift();
      o.onLog?.(line);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    await exited;
    clearTimeout(timer);
  };

  const listening = await new Promise<Listening>((resolve, reject) => {
    const outLines = new LineSplitter();
    const timeoutMs = o.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const timer = setTimeout(() => {
      reject(new EngineError(`the model server did not listen within ${timeoutMs} ms`, 'timeout', 'serve', null));
    }, timeoutMs);
    const done = (): void => clearTimeout(timer);
    child.on('error', (error) => {
      done();
      reject(new EngineSpawnError(python, error));
    });
    child.on('exit', (code, signal) => {
      done();
      reject(new EngineExitedError('serve', null, code, signal, stderr, 'before it listened'));
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      for (const line of outLines.push(chunk)) {
        let msg: { event?: string; error?: unknown } & Partial<Listening>;
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          continue; // the server's stdout carries its announcement only; anything else is ignored
        }
        done();
        if (msg.event === 'listening' && typeof msg.url === 'string' && typeof msg.port === 'number') {
          resolve(msg as Listening);
        } else {
          const payload = msg.error as Parameters<typeof engineErrorFromPayload>[0] | undefined;
          reject(
            payload
              ? engineErrorFromPayload(payload, 'serve', null)
              : new EngineError(`the model server said ${line}`, 'protocol_error', 'serve', null),
          );
        }
      }
    });
  }).catch(async (error: unknown) => {
    await kill();
    throw error;
  });

  return {
    url: listening.url,
    port: listening.port,
    model: listening.model,
    maxModelLen: listening.max_model_len,
    apiKeyRequired: listening.api_key_required,
    exited,
    close: kill,
  };
}
