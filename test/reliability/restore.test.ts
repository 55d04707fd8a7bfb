/**
 * Issue 21, items 1 and 2, and a promoted checkpoint whose files are gone. A backup restored by
 * `character doctor --repair` is brought up to what the run folders show; personas live in files
 * a rebuild finds; a missing database beside backups or persona files is never "ok". The data
 * folders are real ones written by the studio (openStudio, steps that write what the engine
 * would); the CLI runs in a child process.
 */
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PIPELINE_STEPS } from '../../src-shared/contract';
import { databasePath, jobDir, runPaths } from '../../src-main/core/paths';
import { createRun } from '../../src-main/runs/create-run';
import type { StepTable } from '../../src-main/pipeline/runner';
import { backupDatabase } from '../../src-main/store/backup';
import { openStudio } from '../../src-main/studio/studio';
import { cli, jsonOut } from './helpers';

const work = mkdtempSync(join(tmpdir(), 'rel-restore-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const noSteps = (): StepTable =>
  Object.fromEntries(PIPELINE_STEPS.map((s) => [s, async () => undefined])) as unknown as StepTable;

interface Listed {
  checkpoints: { id: string; step: number; state: string }[];
}

describe('item 1: a backup taken mid-run, restored', () => {
  it('is brought up to the run folder: status, training job, checkpoint ids and the promotion', async () => {
    const home = join(work, 'mid-run');
    const studio = await openStudio({ dataDir: home, steps: noSteps });
    const run = createRun(studio, { personaId: 'beethoven', scale: 'smoke', training: { maxSteps: 12 } });
    await studio.runner.run(run.id); // completed, run.json written
    // The database as it was mid-train: the run running at train, its job at step 0, no checkpoint.
    const job = studio.store.jobs.create({
      runId: run.id,
      kind: 'sft',
      config: run.config.scaleConfig.training,
      totalSteps: 12,
      status: 'running',
    });
    const done = studio.store.runs.require(run.id);
    studio.store.runs.update(run.id, { status: 'running', step: 'train', completedSteps: ['questions'] });
    await backupDatabase(studio.store.db, home, 'mid-run');
    // Then the run finished: its checkpoints on disk and registered, the last one promoted.
    studio.store.runs.update(run.id, {
      status: 'completed',
      step: null,
      completedSteps: done.completedSteps,
    });
    const ids: string[] = [];
    for (const step of [6, 12]) {
      const dir = join(
        jobDir(runPaths(home, run.id), job.id),
        'checkpoints',
        `step-${String(step).padStart(6, '0')}`,
      );
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'trainer_state.json'), JSON.stringify({ kind: 'sft', step, total_steps: 12 }));
      writeFileSync(join(dir, 'adapter_config.json'), '{}');
      const cp = studio.store.checkpoints.insert({
        runId: run.id,
        jobId: job.id,
        step,
        path: dir,
        lineage: {
          personaId: 'beethoven',
          personaVersion: 1,
          dataHash: '',
          config: run.config.scaleConfig.training,
        },
      });
      ids.push(cp.id);
    }
    studio.registry.promote(ids[1]!);
    studio.store.jobs.update(job.id, { step: 12, status: 'completed' });
    await studio.runner.run(run.id).catch(() => undefined); // rewrites run.json as completed
    await studio.close();

    truncateSync(databasePath(home), 0);
    const fix = await cli(['doctor', '--repair'], home);
    expect(fix.code, fix.stdout + fix.stderr).toBe(0);
    expect(fix.stdout).toMatch(/restored .*backups/);
    expect(fix.stdout).toContain(`brought run ${run.id} up to its folder`);

    const runs = jsonOut<{ id: string; status: string }[]>(await cli(['runs', '--json'], home));
    expect(runs).toEqual([expect.objectContaining({ id: run.id, status: 'completed' })]);
    const list = jsonOut<Listed>(await cli(['checkpoint', 'list', '--json'], home));
    expect(list.checkpoints.map((c) => c.id).sort()).toEqual([...ids].sort());
    expect(list.checkpoints.find((c) => c.id === ids[1])?.state).toBe('promoted');
    const again = await cli(['doctor'], home);
    expect(again.code, again.stdout).toBe(0);
  });
});

describe('item 2: custom personas and a lost database', () => {
  const persona = `# Пират Иван\n${'Я старый капитан, я говорю о море, о ветре и о далёких портах, где бывал. '.repeat(2)}\n`;

  it('refuses to start empty beside backups or persona files, and the repair stores the personas again', async () => {
    const home = join(work, 'personas');
    mkdirSync(home, { recursive: true });
    const file = join(home, 'ivan.txt');
    writeFileSync(file, persona);
    const saved = await cli(['constitution', 'save', file, '--json'], home);
    expect(saved.code, saved.stderr).toBe(0);
    const id = jsonOut<{ id: string }>(saved).id;
    expect(id).toBe('pirat-ivan');

    rmSync(databasePath(home));
    rmSync(join(home, 'backups'), { recursive: true, force: true });
    const show = await cli(['constitution', 'show', id], home);
    expect(show.code).toBe(1);
    expect(show.stderr).toContain(databasePath(home));
    expect(show.stderr).toMatch(/is missing, but the data folder holds \d+ persona\(s\)/);
    expect(show.stderr).not.toMatch(/Unknown persona/);
    const check = await cli(['doctor'], home);
    expect(check.code).toBe(1);

    const fix = await cli(['doctor', '--repair'], home);
    expect(fix.code, fix.stdout + fix.stderr).toBe(0);
    expect(fix.stdout).toMatch(
      new RegExp(`stored \\d+ persona version\\(s\\) again from their files: .*${id} v1`),
    );
    const back = await cli(['constitution', 'show', id], home);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain('# Пират Иван');
  });

  it('a missing database with only a backup is not "ok" either', async () => {
    const home = join(work, 'backup-only');
    const studio = await openStudio({ dataDir: home, steps: noSteps });
    await backupDatabase(studio.store.db, home, 'test');
    await studio.close();
    rmSync(databasePath(home));
    rmSync(join(home, 'personas'), { recursive: true, force: true });
    const check = await cli(['doctor'], home);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/restore .*backups/);
  });
});

describe('a promoted checkpoint whose files are gone', () => {
  it('is reported by doctor, with the checkpoint and the way out', async () => {
    const home = join(work, 'gone');
    const studio = await openStudio({ dataDir: home, steps: noSteps });
    const run = createRun(studio, { personaId: 'beethoven', scale: 'smoke' });
    const dir = join(runPaths(home, run.id).dir, 'checkpoints', 'step-000006');
    mkdirSync(dir, { recursive: true });
    const cp = studio.store.checkpoints.insert({
      runId: run.id,
      jobId: null,
      step: 6,
      path: dir,
      lineage: {
        personaId: 'beethoven',
        personaVersion: 1,
        dataHash: '',
        config: run.config.scaleConfig.training,
      },
    });
    studio.registry.promote(cp.id);
    await studio.close();
    rmSync(dir, { recursive: true });
    const check = await cli(['doctor'], home);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain(`no files    checkpoint ${cp.id}`);
    expect(check.stdout).toMatch(/checkpoint rollback \(or promote <another id>\)/);
  });
});
