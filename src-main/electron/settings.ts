/**
 * Settings for the desktop app: electron-store (a JSON file in userData) behind the pipeline's
 * SettingsStore interface. API keys never reach that file in clear: they are encrypted with
 * safeStorage (the OS keychain) and stored as base64; when the OS offers no encryption they are
 * kept in memory for this session only. Keys are never logged.
 */
import { safeStorage } from 'electron';
import ElectronStore from 'electron-store';
import {
  defaultSettings,
  JsonFileSettingsStore,
  type SettingsStore,
  type StudioSettings,
} from '../core/settings';

/** Settings that hold an API key: the endpoints and Tinker. */
type Endpoint = 'openai' | 'judge' | 'tinker';

/** What lands in the settings file: endpoints without keys, keys encrypted apart. */
interface PersistedSettings extends Record<string, unknown> {
  settings: Omit<StudioSettings, 'dataDir'>;
  encryptedKeys: Partial<Record<Endpoint, string>>;
}

export class ElectronSettingsStore implements SettingsStore {
  private readonly file: ElectronStore<PersistedSettings>;
  private data: StudioSettings;
  /** Keys kept only in memory when safeStorage cannot encrypt (e.g. Linux without a keyring). */
  private readonly sessionKeys: Partial<Record<Endpoint, string>> = {};

  constructor(readonly dataDir: string) {
    const { dataDir: _ignored, ...defaults } = defaultSettings(dataDir);
    this.file = new ElectronStore<PersistedSettings>({ name: 'settings' });
    // First start: take over what the CLI saved in <dataDir>/settings.json, so both agree.
    const seed = this.file.has('settings') ? null : new JsonFileSettingsStore(dataDir).all();
    const stored: Partial<Omit<StudioSettings, 'dataDir'>> = this.file.get('settings') ?? {};
    this.data = {
      ...defaults,
      ...stored,
      prices: { ...defaults.prices, ...(stored.prices ?? {}) },
      dataDir,
    };
    if (seed) {
      const { dataDir: _seedDir, ...fromCli } = seed;
      for (const key of Object.keys(fromCli) as (keyof typeof fromCli)[]) this.set(key, seed[key]);
      return;
    }
    for (const endpoint of ['openai', 'judge'] as const) {
      const value = this.data[endpoint];
      if (value) this.data[endpoint] = { ...value, apiKey: this.readKey(endpoint) };
    }
    if (this.data.tinker) this.data.tinker = { ...this.data.tinker, apiKey: this.readKey('tinker') };
  }

  private readKey(endpoint: Endpoint): string {
    const encrypted = this.file.get('encryptedKeys')?.[endpoint];
    if (encrypted && safeStorage.isEncryptionAvailable()) {
      try {
        return safeStorage.decryptString(Buffer.from(encrypted, 'base64'));
      } catch {
        // A key encrypted under another OS account cannot be read: the user enters it again.
        return '';
      }
    }
    return this.sessionKeys[endpoint] ?? '';
  }

  private writeKey(endpoint: Endpoint, apiKey: string): void {
    const keys = { ...(this.file.get('encryptedKeys') ?? {}) };
    delete keys[endpoint];
    delete this.sessionKeys[endpoint];
    if (apiKey !== '') {
      if (safeStorage.isEncryptionAvailable()) {
        keys[endpoint] = safeStorage.encryptString(apiKey).toString('base64');
      } else {
        this.sessionKeys[endpoint] = apiKey;
      }
    }
    this.file.set('encryptedKeys', keys);
  }

  get<K extends keyof StudioSettings>(key: K): StudioSettings[K] {
    return this.data[key];
  }

  set<K extends keyof StudioSettings>(key: K, value: StudioSettings[K]): void {
    if (key === 'dataDir') return; // decided at start-up, never from the settings file
    this.data = { ...this.data, [key]: value };
    if (key === 'openai' || key === 'judge' || key === 'tinker') {
      this.writeKey(key, (value as { apiKey?: string } | null)?.apiKey ?? '');
    }
    const { dataDir: _dir, ...rest } = this.data;
    const withoutKeys = {
      ...rest,
      openai: rest.openai ? { ...rest.openai, apiKey: '' } : null,
      judge: rest.judge ? { ...rest.judge, apiKey: '' } : null,
      tinker: rest.tinker ? { ...rest.tinker, apiKey: '' } : null,
    };
    this.file.set('settings', withoutKeys);
  }

  all(): StudioSettings {
    return { ...this.data };
  }
}
