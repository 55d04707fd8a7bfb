/**
 * pushCheckpoint: exports the checkpoint over its earlier export (overwrite), then asks the
 * engine's push_to_hub for that folder with the run's train.jsonl and val.jsonl; a repo id that
 * is not owner/name is refused before either. The engine is a recording stand-in here; the real
 * push is engine/tests/test_hub.py against a local hub-layout server.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPaths } from '../../../src-main/core/paths';
import { trainingDefaults } from '../../../src-main/core/scales';
import type { EngineClient } from '../../../src-main/engine/client';
import { pushCheckpoint } from '../../../src-main/registry/export';
import { openStore, type Store } from '../../../src-main/store';

let dataDir: string;
let store: Store;
const calls: { method: string; params: Record<string, unknown> }[] = [];
const engine = {
  call: async (method: string, params: Record<string, unknown>) => {
    calls.push({ method, params });
    if (method === 'export_adapter') {
      return {
        output_dir: params.output_dir,
        files: [],
        merged_dir: null,
        gguf_lora: null,
        gguf_model: null,
        modelfile: null,
        base: { source: 'default', name: 'b', format: 'gguf', folder: '/b', gguf_file: 'b.gguf' },
        notes: [],
      };
    }
    return {
      repo_id: params.repo_id,
      url: 'http://hub/me/b',
      commit: 'c0ffee',
      files: ['README.md'],
      data_files: [],
    };
  },
} as unknown as EngineClient;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'export-push-'));
  store = openStore(':memory:');
  calls.length = 0;
});
afterEach(() => {
  store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('pushCheckpoint', () => {
  it('exports over the earlier export, then pushes it with the run datasets', async () => {
    const run = store.runs.create({
      personaId: 'beethoven',
      personaVersion: 1,
      scale: 'smoke',
      dir: dataDir,
    });
    const paths = runPaths(dataDir, run.id);
    mkdirSync(paths.dir, { recursive: true });
    writeFileSync(paths.train, '{}\n');
    writeFileSync(paths.val, '{}\n');
    const cp = store.checkpoints.insert({
      runId: run.id,
      jobId: null,
      step: 3,
      path: join(dataDir, 'ckpt'),
      metrics: {},
      lineage: {
        personaId: 'beethoven',
        personaVersion: 1,
        dataHash: 'abc',
        config: trainingDefaults('smoke'),
      },
    });
    const exportDir = join(dataDir, 'exports', cp.id);
    mkdirSync(exportDir, { recursive: true });
    writeFileSync(join(exportDir, 'README.md'), 'an earlier export');
    const pushed = await pushCheckpoint({ store, engine, dataDir }, cp.id, {
      repoId: 'me/beethoven',
      private: true,
    });
    expect(calls.map((c) => c.method)).toEqual(['export_adapter', 'push_to_hub']);
    expect(calls[0]!.params).toMatchObject({ output_dir: exportDir, overwrite: true, gguf: true });
    expect(calls[1]!.params).toEqual({
      folder: exportDir,
      repo_id: 'me/beethoven',
      data_files: [paths.train, paths.val],
      private: true,
    });
    expect(pushed).toMatchObject({ repoId: 'me/beethoven', commit: 'c0ffee', exportDir });
  });

  it('refuses a repo id that is not owner/name before exporting', async () => {
    await expect(
      pushCheckpoint({ store, engine, dataDir }, 'x', { repoId: 'no-owner' }),
    ).rejects.toMatchObject({
      code: 'invalid_params',
    });
    expect(calls).toEqual([]);
  });
});
