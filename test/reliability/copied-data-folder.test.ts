/**
 * Item 1: a copied data folder (a backup) is its own. Deleting a checkpoint with its files in
 * the copy must not touch the original's files, whether the database was written by this
 * schema or by an older one that stored absolute paths; and nothing outside the data folder is
 * ever deleted.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { TrainingConfig } from '../../src-shared/contract';
import { databasePath } from '../../src-main/core/paths';
import { migrate, MIGRATIONS, openStore } from '../../src-main/store';
import { cli, jsonOut } from './helpers';

const work = mkdtempSync(join(tmpdir(), 'rel-copy-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const RUN = '20261201-031500-beethoven-smoke-ab12';
const LINEAGE = {
  personaId: 'beethoven',
  personaVersion: 1,
  dataHash: 'h',
  config: { baseModel: 'default', loraR: 8 } as TrainingConfig,
};

/** A checkpoint folder with a file in it, under the data folder's run layout. */
function checkpointDir(home: string, step: number): string {
  const dir = join(
    home,
    'runs',
    RUN,
    'jobs',
    'job-1',
    'checkpoints',
    `step-${String(step).padStart(6, '0')}`,
  );
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'adapter_config.json'), '{}');
  return dir;
}

/** A data folder written through the store as it is today: one run, two checkpoints. */
function currentFolder(home: string): string[] {
  mkdirSync(home, { recursive: true });
  const store = openStore(databasePath(home));
  try {
    store.runs.create({
      id: RUN,
      personaId: 'beethoven',
      personaVersion: 1,
      scale: 'smoke',
      dir: join(home, 'runs', RUN),
    });
    return [1, 2].map(
      (step) =>
        store.checkpoints.insert({
          runId: RUN,
          jobId: null,
          step,
          path: checkpointDir(home, step),
          lineage: LINEAGE,
        }).id,
    );
  } finally {
    store.close();
  }
}

/** A data folder as schema 4 wrote it: absolute paths in runs.dir and checkpoints.path. */
function schema4Folder(home: string): string[] {
  mkdirSync(home, { recursive: true });
  const db = new Database(databasePath(home));
  try {
    migrate(db, MIGRATIONS.slice(0, 4));
    const now = new Date().toISOString();
    db.prepare(
      `INSERT INTO runs (id, persona_id, persona_version, scale, status, step, config, completed_steps, error, timings, dir, created_at, updated_at)
       VALUES (?, 'beethoven', 1, 'smoke', 'completed', NULL, '{}', '[]', NULL, '{}', ?, ?, ?)`,
    ).run(RUN, join(home, 'runs', RUN), now, now);
    return [1, 2].map((step) => {
      const id = `ckpt-legacy-${step}`;
      db.prepare(
        `INSERT INTO checkpoints (id, run_id, job_id, step, path, state, metrics, lineage, created_at)
         VALUES (?, ?, NULL, ?, ?, 'candidate', '{}', ?, ?)`,
      ).run(id, RUN, step, checkpointDir(home, step), JSON.stringify(LINEAGE), now);
      return id;
    });
  } finally {
    db.close();
  }
}

describe('a copied data folder', () => {
  for (const [label, make] of [
    ['written by this schema', currentFolder],
    ['written by schema 4 (absolute paths)', schema4Folder],
  ] as const) {
    it(`deletes only its own checkpoint files (${label})`, async () => {
      const original = join(work, `orig-${make.name}`);
      const copy = join(work, `copy-${make.name}`);
      const [first] = make(original);
      cpSync(original, copy, { recursive: true });

      const del = await cli(['checkpoint', 'delete', first!, '--remove-files'], copy);
      expect(del.code, del.stderr).toBe(0);
      const step1 = join('runs', RUN, 'jobs', 'job-1', 'checkpoints', 'step-000001');
      expect(existsSync(join(original, step1)), "the ORIGINAL folder's checkpoint was deleted").toBe(true);
      expect(existsSync(join(copy, step1)), 'the copy kept the deleted checkpoint').toBe(false);

      // The copy's run and remaining checkpoint point into the copy.
      const runs = jsonOut<{ id: string; dir: string }[]>(await cli(['runs', '--json'], copy));
      expect(runs.find((r) => r.id === RUN)?.dir).toBe(join(copy, 'runs', RUN));
      const list = jsonOut<{ checkpoints: { path: string }[] }>(
        await cli(['checkpoint', 'list', '--json'], copy),
      );
      expect(list.checkpoints.map((c) => c.path)).toEqual([
        join(copy, 'runs', RUN, 'jobs', 'job-1', 'checkpoints', 'step-000002'),
      ]);
    });
  }

  it('refuses to delete files outside the data folder', async () => {
    const home = join(work, 'outside');
    const elsewhere = join(work, 'not-the-data-folder', 'adapter');
    mkdirSync(elsewhere, { recursive: true });
    writeFileSync(join(elsewhere, 'adapter_config.json'), '{}');
    currentFolder(home);
    const store = openStore(databasePath(home));
    const id = store.checkpoints.insert({
      runId: RUN,
      jobId: null,
      step: 3,
      path: elsewhere,
      lineage: LINEAGE,
    }).id;
    store.close();

    const del = await cli(['checkpoint', 'delete', id, '--remove-files'], home);
    expect(del.code).toBe(1);
    expect(del.stderr).toMatch(/outside the data folder/);
    expect(existsSync(join(elsewhere, 'adapter_config.json'))).toBe(true);
    // Refused as a whole: the row is still there.
    const list = jsonOut<{ checkpoints: { id: string }[] }>(
      await cli(['checkpoint', 'list', '--json'], home),
    );
    expect(list.checkpoints.map((c) => c.id)).toContain(id);
  });
});
