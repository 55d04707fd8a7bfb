/**
 * The desktop settings store with electron-store replaced by an in-memory map and safeStorage
 * by a reversible stand-in for the OS keychain: what reaches the settings file, and what not.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const state = vi.hoisted(() => ({ file: new Map<string, unknown>(), encryption: true }));

vi.mock('electron', () => ({
  safeStorage: {
    isEncryptionAvailable: () => state.encryption,
    // Stand-in for the OS keychain: reversible, and visibly not the clear text.
    encryptString: (text: string) => Buffer.from(`enc:${[...text].reverse().join('')}`),
    decryptString: (data: Buffer) => [...data.toString().slice(4)].reverse().join(''),
  },
}));

vi.mock('electron-store', () => ({
  default: class {
    has(key: string): boolean {
      return state.file.has(key);
    }
    get(key: string): unknown {
      return structuredClone(state.file.get(key));
    }
    set(key: string, value: unknown): void {
      state.file.set(key, structuredClone(value));
    }
  },
}));

const { ElectronSettingsStore } = await import('../../../src-main/electron/settings');

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'electron-settings-'));
  state.file.clear();
  state.encryption = true;
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const endpoint = { baseUrl: 'https://api.example/v1', model: 'teacher-1', apiKey: 'sk-secret-123' };

describe('ElectronSettingsStore', () => {
  it('keeps API keys out of the settings file, encrypted apart, and reads them back', () => {
    const store = new ElectronSettingsStore(dataDir);
    store.set('openai', endpoint);
    const written = JSON.stringify(Object.fromEntries(state.file));
    expect(written).not.toContain('sk-secret-123');
    expect((state.file.get('settings') as { openai: { apiKey: string } }).openai.apiKey).toBe('');
    expect(store.get('openai')?.apiKey).toBe('sk-secret-123');
    const reopened = new ElectronSettingsStore(dataDir);
    expect(reopened.get('openai')).toEqual(endpoint);
  });

  it('keeps the Tinker key like the endpoint keys: encrypted apart, read back', () => {
    const store = new ElectronSettingsStore(dataDir);
    store.set('tinker', { apiKey: 'tml-secret-9' });
    expect(JSON.stringify(Object.fromEntries(state.file))).not.toContain('tml-secret-9');
    expect((state.file.get('settings') as { tinker: { apiKey: string } }).tinker.apiKey).toBe('');
    expect(new ElectronSettingsStore(dataDir).get('tinker')).toEqual({ apiKey: 'tml-secret-9' });
  });

  it('holds a key only in memory when the OS cannot encrypt', () => {
    state.encryption = false;
    const store = new ElectronSettingsStore(dataDir);
    store.set('judge', endpoint);
    expect(JSON.stringify(Object.fromEntries(state.file))).not.toContain('sk-secret-123');
    expect(store.get('judge')?.apiKey).toBe('sk-secret-123');
    expect(new ElectronSettingsStore(dataDir).get('judge')?.apiKey).toBe('');
  });

  it('takes over the CLI settings on first start and never stores dataDir', () => {
    const model = { source: 'local', path: '/models/tiny' };
    writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ studentModel: model, openai: endpoint }));
    const store = new ElectronSettingsStore(dataDir);
    expect(store.get('studentModel')).toEqual(model);
    expect(store.get('openai')?.apiKey).toBe('sk-secret-123');
    expect(store.get('dataDir')).toBe(dataDir);
    expect(JSON.stringify(Object.fromEntries(state.file))).not.toContain('sk-secret-123');
    expect(state.file.get('settings')).not.toHaveProperty('dataDir');
    store.set('dataDir', '/elsewhere');
    expect(store.get('dataDir')).toBe(dataDir);
  });
});
