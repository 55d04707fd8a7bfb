/**
 * Settings behind an interface: the CLI and tests use the JSON-file store below, the Electron
 * shell provides an electron-store one (importing electron here would break plain Node).
 *
 * The OpenAI-compatible API key lives only here; `redactSettings` is what may be logged or
 * written anywhere else (DB, reports, exports).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ModelSpec } from '../../src-shared/engine-protocol';
import { ConfigError } from './errors';

/**
 * Values of the chat-completions `reasoning_effort` field: OpenAI takes minimal..high, Ollama
 * none/low/medium/high ("none" turns a thinking model's reasoning off; Ollama turns it on when
 * the field is absent).
 */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high'] as const;
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

export function isReasoningEffort(value: unknown): value is ReasoningEffort {
  return typeof value === 'string' && (REASONING_EFFORTS as readonly string[]).includes(value);
}

export interface EndpointSettings {
  baseUrl: string;
  model: string;
  apiKey: string;
  /** Sent as `reasoning_effort` when set; absent: the endpoint's default. */
  reasoningEffort?: ReasoningEffort;
  /** Requests in flight at once (default 4; a vLLM or SGLang server wants 32-64, see README). */
  concurrency?: number;
  /** Top log-probs per answer token for kd (1-20; the server must allow as many); absent: none. */
  topLogprobs?: number;
  /** Ask for tokens as ids (vLLM's return_tokens_as_token_ids; default true when capturing). */
  returnTokenIds?: boolean;
}

/** The Tinker service (runs with the tinker backend); its key is kept like the endpoints' keys. */
export interface TinkerConnection {
  apiKey: string;
  /** Absent: the SDK's default (the production service). */
  baseUrl?: string;
}

/** USD per million tokens, and per hour of training compute. */
export interface PriceSettings {
  teacherInputPerMillion: number;
  teacherOutputPerMillion: number;
  studentInputPerMillion: number;
  studentOutputPerMillion: number;
  trainingPerHour: number;
}

export interface StudioSettings {
  dataDir: string;
  teacherModel: ModelSpec;
  studentModel: ModelSpec;
  /** Which provider answers as the teacher: the local engine, or the OpenAI-compatible endpoint. */
  teacherProvider: 'local' | 'openai';
  openai: EndpointSettings | null;
  /** An LLM judge for pairwise comparisons; evaluation skips the judge when null. */
  judge: EndpointSettings | null;
  /**
   * Mirror training metrics to TensorBoard event files (jobs/<job>/tensorboard); off by default,
   * and needs `engine/.venv/bin/pip install tensorboard`.
   */
  tensorboard?: boolean;
  /** A model the local engine loads as the pairwise judge when `judge` is null (absent: none). */
  localJudge?: ModelSpec | null;
  /** Tinker's API key (and address); absent: TINKER_API_KEY from the environment, if any. */
  tinker?: TinkerConnection | null;
  prices: PriceSettings;
}

export interface SettingsStore {
  get<K extends keyof StudioSettings>(key: K): StudioSettings[K];
  set<K extends keyof StudioSettings>(key: K, value: StudioSettings[K]): void;
  all(): StudioSettings;
}

/** Where everything lives: $CHARACTER_STUDIO_HOME, else ~/.character-studio. */
export function resolveDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.CHARACTER_STUDIO_HOME;
  return resolve(fromEnv && fromEnv.trim() !== '' ? fromEnv : join(homedir(), '.character-studio'));
}

/**
 * Default prices: an API-hosted teacher at typical small-model list prices against a
 * self-hosted student (USD per million tokens); change them in settings.
 */
export const DEFAULT_PRICES: PriceSettings = {
  teacherInputPerMillion: 0.2,
  teacherOutputPerMillion: 0.6,
  studentInputPerMillion: 0.05,
  studentOutputPerMillion: 0.15,
  trainingPerHour: 0.5,
};

export function defaultSettings(dataDir: string = resolveDataDir()): StudioSettings {
  return {
    dataDir,
    // The same embedded model is teacher (with the constitution) and student (without it).
    teacherModel: { source: 'default' },
    studentModel: { source: 'default' },
    teacherProvider: 'local',
    openai: null,
    judge: null,
    prices: { ...DEFAULT_PRICES },
  };
}

/** Settings with every API key replaced, safe for logs, the DB, reports and exports. */
export function redactSettings(settings: StudioSettings): StudioSettings {
  const redact = (e: EndpointSettings | null): EndpointSettings | null =>
    e ? { ...e, apiKey: e.apiKey ? '***' : '' } : null;
  return {
    ...settings,
    openai: redact(settings.openai),
    judge: redact(settings.judge),
    ...(settings.tinker
      ? { tinker: { ...settings.tinker, apiKey: settings.tinker.apiKey ? '***' : '' } }
      : {}),
  };
}

/** Settings in <dataDir>/settings.json, written atomically (temp file + rename). */
export class JsonFileSettingsStore implements SettingsStore {
  private data: StudioSettings;
  readonly path: string;

  constructor(dataDir: string = resolveDataDir()) {
    this.path = join(dataDir, 'settings.json');
    const defaults = defaultSettings(dataDir);
    let stored: Partial<StudioSettings> = {};
    if (existsSync(this.path)) {
      try {
        stored = JSON.parse(readFileSync(this.path, 'utf8')) as Partial<StudioSettings>;
      } catch (error) {
        throw new ConfigError(`settings file ${this.path} is not valid JSON: ${String(error)}`, 'settings');
      }
    }
    // The data dir always comes from where the file is (env or default), never from the file.
    this.data = {
      ...defaults,
      ...stored,
      prices: { ...defaults.prices, ...(stored.prices ?? {}) },
      dataDir,
    };
  }

  get<K extends keyof StudioSettings>(key: K): StudioSettings[K] {
    return this.data[key];
  }

  set<K extends keyof StudioSettings>(key: K, value: StudioSettings[K]): void {
    this.data = { ...this.data, [key]: value };
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 2), { mode: 0o600 });
    renameSync(tmp, this.path);
  }

  all(): StudioSettings {
    return { ...this.data };
  }
}

/** In-memory settings for tests and one-off CLI invocations. */
export class MemorySettingsStore implements SettingsStore {
  private data: StudioSettings;
  constructor(initial: Partial<StudioSettings> = {}) {
    this.data = { ...defaultSettings(), ...initial };
  }
  get<K extends keyof StudioSettings>(key: K): StudioSettings[K] {
    return this.data[key];
  }
  set<K extends keyof StudioSettings>(key: K, value: StudioSettings[K]): void {
    this.data = { ...this.data, [key]: value };
  }
  all(): StudioSettings {
    return { ...this.data };
  }
}
