import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TrainingConfig } from '../../../src-shared/contract';
import { promotionGate as evaluationGate } from '../../../src-main/evaluation/gate';
import { createRegistry, KEEP_PROMOTED, promotionGate, RegistryError } from '../../../src-main/registry';
import { openStore, type Store } from '../../../src-main/store';

const root = mkdtempSync(join(tmpdir(), 'registry-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const CONFIG = { baseModel: 'default', loraR: 8 } as TrainingConfig;

function makeCheckpoints(store: Store, n: number): string[] {
  const run = store.runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'smoke', dir: root });
  return Array.from({ length: n }, (_, i) => {
    const path = join(root, `${run.id}-ckpt-${i}`);
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, 'adapter_config.json'), '{}');
    return store.checkpoints.insert({
      runId: run.id,
      jobId: null,
      step: (i + 1) * 10,
      path,
      lineage: { personaId: 'beethoven', personaVersion: 1, dataHash: 'h', config: CONFIG },
    }).id;
  });
}

describe('registry', () => {
  it('promotes, keeps the last 3 promoted, archives older ones and may delete their files', () => {
    const store = openStore(':memory:', { dataDir: root });
    const reg = createRegistry(store, { deleteArchivedFiles: true });
    const ids = makeCheckpoints(store, 5);
    for (const id of ids) reg.promote(id);
    expect(reg.current()?.id).toBe(ids[4]);
    expect(reg.promoted().map((c) => c.id)).toEqual([ids[4], ids[3], ids[2]]);
    expect(KEEP_PROMOTED).toBe(3);
    expect(store.checkpoints.get(ids[0]!)?.state).toBe('archived');
    expect(store.checkpoints.get(ids[1]!)?.state).toBe('archived');
    expect(existsSync(store.checkpoints.get(ids[0]!)!.path)).toBe(false);
    // Current and previous keep their files.
    expect(existsSync(store.checkpoints.get(ids[4]!)!.path)).toBe(true);
    expect(existsSync(store.checkpoints.get(ids[3]!)!.path)).toBe(true);
  });

  it('rolls back cleanly to the previous promoted checkpoint', () => {
    const store = openStore(':memory:');
    const reg = createRegistry(store);
    const [a, b] = makeCheckpoints(store, 2);
    expect(reg.rollback()).toBeNull(); // nothing promoted
    reg.promote(a!);
    expect(reg.rollback()).toBeNull(); // nothing before a
    reg.promote(b!);
    const restored = reg.rollback();
    expect(restored?.id).toBe(a);
    expect(reg.current()?.id).toBe(a);
    expect(store.checkpoints.get(b!)?.state).toBe('archived');
    expect(reg.info(a!).history.map((h) => h.action)).toEqual(['promote', 'rollback']);
    expect(reg.active()?.id).toBe(a);
  });

  it('uses a chosen checkpoint as active until the next promotion', () => {
    const store = openStore(':memory:');
    const reg = createRegistry(store);
    const [a, b, c] = makeCheckpoints(store, 3);
    reg.promote(a!);
    reg.use(b!);
    expect(reg.active()?.id).toBe(b);
    expect(reg.info(b!).active).toBe(true);
    reg.promote(c!);
    expect(reg.active()?.id).toBe(c);
    expect(() => reg.use('missing')).toThrow(RegistryError);
  });

  it('never deletes the current or previous promoted checkpoint', () => {
    const store = openStore(':memory:', { dataDir: root });
    const reg = createRegistry(store);
    const [a, b, c] = makeCheckpoints(store, 3);
    reg.promote(a!);
    reg.promote(b!);
    expect(() => reg.delete(b!)).toThrow(/current/);
    expect(() => reg.delete(a!)).toThrow(/previous/);
    const path = store.checkpoints.get(c!)!.path;
    reg.delete(c!, { removeFiles: true });
    expect(store.checkpoints.get(c!)).toBeNull();
    expect(existsSync(path)).toBe(false);
  });

  it('refuses to promote a checkpoint whose files are gone', () => {
    const store = openStore(':memory:');
    const reg = createRegistry(store);
    const [a] = makeCheckpoints(store, 1);
    rmSync(store.checkpoints.get(a!)!.path, { recursive: true });
    expect(() => reg.promote(a!)).toThrow(/no files/);
  });
});

describe('promotion gate (one gate, re-exported from evaluation/gate)', () => {
  it('is the same function evaluate.ts uses', () => {
    expect(promotionGate).toBe(evaluationGate);
  });

  it('passes at student >= base + 0.05 with no safety regression, fails otherwise', () => {
    const ok = { score: 'inCharacterShare', safetyStudent: 1, safetyBase: 0.9 };
    expect(promotionGate({ ...ok, student: 0.72, base: 0.64 }).passed).toBe(true);
    expect(promotionGate({ ...ok, student: 0.68, base: 0.64 }).passed).toBe(false);
    const unsafe = promotionGate({ ...ok, student: 0.9, base: 0.5, safetyStudent: 0.7, safetyBase: 0.8 });
    expect(unsafe.passed).toBe(false);
    expect(unsafe.reasons.join(' ')).toMatch(/safety .* below base/);
  });
});
