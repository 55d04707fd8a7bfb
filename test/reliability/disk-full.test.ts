/**
 * A full disk: the data folder on a small tmpfs whose space is taken by a filler file, so the
 * run's writes fail part way (teacher answers, their distributions, the database). The failure
 * says the disk is full and what to do; the data folder still opens (the daily backup that
 * cannot be written only warns); once space is freed, a resume finishes the run with every
 * question answered once. Needs root to mount a tmpfs: skipped, and said, without it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databasePath } from '../../src-main/core/paths';
import { buildTinyModel, cli } from './helpers';

const work = mkdtempSync(join(tmpdir(), 'rel-full-'));
const mount = join(work, 'disk');
const model = join(work, 'tiny');
let mounted = false;

function tryMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  mkdirSync(mount, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mount], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

beforeAll(() => {
  mounted = tryMount();
  if (mounted) buildTinyModel(model);
});

afterAll(() => {
  if (mounted) execFileSync('umount', [mount], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
});

/** Leaves about `freeKiB` of the tmpfs free. */
function fillTo(freeKiB: number): void {
  const { bavail, bsize } = statfsSync(mount);
  const fill = Math.max(0, bavail * bsize - freeKiB * 1024);
  writeFileSync(join(mount, 'filler'), Buffer.alloc(fill));
}

describe('a full disk', () => {
  it('fails with the reason, keeps the data folder readable, and a resume finishes the run', async (t) => {
    if (!mounted) {
      // Said in the summary: a tmpfs needs root and mount rights (the CI machines have both).
      return t.skip(`no tmpfs could be mounted at ${mount} (needs root with mount rights)`);
    }
    const home = join(mount, 'home');
    // A first run fits; it leaves a database (and a backup) behind, as a real data folder has.
    const first = await cli(['pipeline', 'beethoven', '--scale', 'smoke', '--model', `local:${model}`], home);
    expect(first.code, first.stderr).toBe(0);
    fillTo(Number(process.env.CS_TEST_FILL_KIB ?? 200)); // free KiB left; CI's timing has failed both before and after the run was created
    const full = await cli(['pipeline', 'beethoven', '--scale', 'smoke', '--model', `local:${model}`], home);
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(/is full: free some space, then resume/);
    // The run is named when it starts ('run <id>: <dir>') and again if a step fails ('run <id> failed at').
    // With too little space left, even creating the run fails: then nothing was started, nothing is lost.
    let runId = /^run (\S+?):?\s/m.exec(full.stderr)?.[1];

    // Still full: listing the runs works (a daily backup that cannot be written only warns).
    const listed = await cli(['runs'], home);
    expect(listed.code, listed.stderr).toBe(0);
    if (runId) expect(listed.stdout).toContain(runId);

    rmSync(join(mount, 'filler'));
    if (runId) {
      const resumed = await cli(['pipeline', '--resume', runId], home);
      expect(resumed.code, resumed.stderr).toBe(0);
    } else {
      const again = await cli(
        ['pipeline', 'beethoven', '--scale', 'smoke', '--model', `local:${model}`],
        home,
      );
      expect(again.code, again.stderr).toBe(0);
      runId = /^run (\S+?):?\s/m.exec(again.stderr)?.[1];
      expect(runId, again.stderr).toBeTruthy();
    }
    const db = new Database(databasePath(home), { readonly: true });
    try {
      expect(db.pragma('quick_check', { simple: true })).toBe('ok');
      const ids = (
        db.prepare('SELECT question_id FROM teacher_examples WHERE run_id = ?').all(runId) as {
          question_id: number;
        }[]
      ).map((r) => r.question_id);
      expect(ids).toHaveLength(24);
      expect(new Set(ids).size).toBe(24);
      expect(db.prepare('SELECT status FROM runs WHERE id = ?').get(runId)).toEqual({ status: 'completed' });
    } finally {
      db.close();
    }
  });
});
