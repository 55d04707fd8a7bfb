/**
 * Item 3: a truncated, corrupted or lost database never turns into an empty one over a data
 * folder that has runs. The data folder here is a real one: the schema-1 database of a demo run
 * (test/fixtures), its run folder (checkpoints, metrics) and runs.csv. The CLI refuses to open a
 * damaged database, naming it and `character doctor`; doctor restores the backup taken before
 * the migration, or rebuilds the index from the run folder when there is no backup.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PIPELINE_STEPS } from '../../src-shared/contract';
import { databasePath } from '../../src-main/core/paths';
import { createRun } from '../../src-main/runs/create-run';
import type { StepTable } from '../../src-main/pipeline/runner';
import { openStudio } from '../../src-main/studio/studio';
import { cli, jsonOut, type CliResult } from './helpers';

const FIXTURE = join(__dirname, '..', 'fixtures', 'studio-schema-1.sqlite');
const RUN = '20261201-020254-beethoven-mini-loo1';
const work = mkdtempSync(join(tmpdir(), 'rel-db-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The fixture's data folder: its database, its run folder as the demo left it, runs.csv. */
function dataFolder(name: string): string {
  const home = join(work, name);
  const run = join(home, 'runs', RUN);
  mkdirSync(run, { recursive: true });
  copyFileSync(FIXTURE, databasePath(home));
  for (const step of [20, 40]) {
    const cp = join(run, 'checkpoints', `step-0000${step}`);
    mkdirSync(cp, { recursive: true });
    writeFileSync(
      join(cp, 'trainer_state.json'),
      JSON.stringify({ kind: 'sft', step, total_steps: 40, data_hash: 'abc123' }),
    );
    writeFileSync(join(cp, 'adapter_config.json'), '{}');
  }
  writeFileSync(
    join(run, 'metrics.jsonl'),
    Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({ kind: 'train', step: i + 1, loss: 3 - i / 40 }),
    ).join('\n') + '\n',
  );
  writeFileSync(
    join(home, 'runs.csv'),
    `run_id,persona,persona_version,scale,status\n${RUN},beethoven,1,mini,completed\n`,
  );
  return home;
}

async function runIds(home: string): Promise<{ id: string; status: string }[]> {
  const r = await cli(['runs', '--json'], home);
  expect(r.code, r.stderr).toBe(0);
  return jsonOut<{ id: string; status: string }[]>(r);
}

/** The refusal every damaged case must give: exit 1, the database's path, the way out. */
function expectRefused(r: CliResult, home: string): void {
  expect(r.stdout, 'an empty listing over a folder with runs').not.toMatch(/no runs yet/);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(databasePath(home));
  expect(r.stderr).toMatch(/character doctor/);
}

describe('a lost database, runs written by this build', () => {
  it("is rebuilt from each run folder's run.json, configuration and progress included", async () => {
    const home = join(work, 'manifest');
    const noSteps = (): StepTable =>
      Object.fromEntries(PIPELINE_STEPS.map((s) => [s, async () => undefined])) as unknown as StepTable;
    const studio = await openStudio({ dataDir: home, steps: noSteps });
    const run = createRun(studio, { personaId: 'beethoven', scale: 'smoke', training: { maxSteps: 7 } });
    await studio.runner.run(run.id);
    await studio.close();
    rmSync(databasePath(home));
    rmSync(join(home, 'backups'), { recursive: true, force: true });

    const fix = await cli(['doctor', '--repair'], home);
    expect(fix.code, fix.stderr).toBe(0);
    expect(fix.stdout).toContain(`indexed run ${run.id} (from run.json)`);
    const reopened = await openStudio({ dataDir: home, steps: noSteps });
    try {
      const back = reopened.store.runs.require(run.id);
      expect(back.status).toBe('completed');
      expect(back.completedSteps).toEqual([...PIPELINE_STEPS]);
      expect(back.config.scaleConfig.training.maxSteps).toBe(7);
      expect(back.dir).toBe(join(home, 'runs', run.id));
    } finally {
      await reopened.close();
    }
  });
});

describe('a damaged database', () => {
  it('truncated to nothing: refused, then restored from the backup taken before migrating', async () => {
    const home = dataFolder('truncated-empty');
    expect((await runIds(home)).map((r) => r.id)).toEqual([RUN]); // migrates; backs up first
    truncateSync(databasePath(home), 0);

    expectRefused(await cli(['runs'], home), home);
    const check = await cli(['doctor', '--json'], home);
    expect(check.code).toBe(1);
    expect(jsonOut<{ state: string }>(check).state).toBe('empty');
    const fix = await cli(['doctor', '--repair'], home);
    expect(fix.code, fix.stderr).toBe(0);
    expect(fix.stdout).toMatch(/restored .*backups/);
    expect(await runIds(home)).toEqual([expect.objectContaining({ id: RUN, status: 'completed' })]);
  });

  it('truncated half way: refused with its path, then restored', async () => {
    const home = dataFolder('truncated-half');
    await runIds(home);
    const path = databasePath(home);
    truncateSync(path, Math.floor(statSync(path).size / 2));

    expectRefused(await cli(['runs'], home), home);
    expect((await cli(['doctor', '--repair'], home)).code).toBe(0);
    expect((await runIds(home)).map((r) => r.id)).toEqual([RUN]);
  });

  it('corrupted in the middle: refused with its path (not a bare "malformed"), then restored', async () => {
    const home = dataFolder('corrupted');
    await runIds(home);
    const path = databasePath(home);
    const size = statSync(path).size;
    const fd = openSync(path, 'r+');
    // Pages 3 to 6 (4 KiB each) overwritten: b-tree pages that quick_check reads.
    writeSync(fd, Buffer.alloc(Math.min(4 * 4096, size - 2 * 4096), 0xab), 0, undefined, 2 * 4096);
    closeSync(fd);

    expectRefused(await cli(['runs'], home), home);
    const check = jsonOut<{ state: string; problems: string[] }>(await cli(['doctor', '--json'], home));
    expect(check.state).toBe('damaged');
    expect(check.problems.length).toBeGreaterThan(0);
    expect((await cli(['doctor', '--repair'], home)).code).toBe(0);
    expect(await runIds(home)).toEqual([expect.objectContaining({ id: RUN, status: 'completed' })]);
    // The damaged file is kept beside it for a later look.
    expect(readdirSync(home).some((f) => f.startsWith('studio.sqlite.broken-'))).toBe(true);
  });

  it('lost with no backup: refused, then the index is rebuilt from the run folder', async () => {
    const home = dataFolder('lost');
    await runIds(home);
    rmSync(databasePath(home));
    rmSync(join(home, 'backups'), { recursive: true, force: true });

    expectRefused(await cli(['runs'], home), home);
    const fix = await cli(['doctor', '--repair'], home);
    expect(fix.code, fix.stderr).toBe(0);
    expect(fix.stdout).toMatch(new RegExp(`indexed run ${RUN} \\(from runs.csv\\)`));
    expect(await runIds(home)).toEqual([expect.objectContaining({ id: RUN, status: 'completed' })]);
    const list = jsonOut<{ checkpoints: { step: number; path: string }[] }>(
      await cli(['checkpoint', 'list', '--json'], home),
    );
    expect(list.checkpoints.map((c) => c.step).sort((a, b) => a - b)).toEqual([20, 40]);
    expect(list.checkpoints.every((c) => existsSync(c.path))).toBe(true);
  });
});
