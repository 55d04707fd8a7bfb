import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src-main/store';
import { pidAlive } from '../../../src-main/core/process-liveness';
import { RunBusyError } from '../../../src-main/store/repos/run-owners';

let dir: string;
let a: Store;
let b: Store;
const RUN = 'run-1';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'owners-'));
  // Two connections to one file: two processes, as far as the owners table can tell.
  a = openStore(join(dir, 'studio.sqlite'));
  b = openStore(join(dir, 'studio.sqlite'));
  a.runs.create({
    id: RUN,
    personaId: 'beethoven',
    personaVersion: 1,
    scale: 'smoke',
    dir: join(dir, 'runs', RUN),
  });
});
afterEach(() => {
  a.close();
  b.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A row as another process on this host would have written it. */
function ownedBy(store: Store, pid: number, heartbeatAgoMs = 0): void {
  const at = new Date(Date.now() - heartbeatAgoMs).toISOString();
  store.db
    .prepare(
      `INSERT OR REPLACE INTO run_owners (run_id, token, pid, host, engine_pid, command, started_at, heartbeat_at)
       VALUES (?, 'other', ?, ?, NULL, 'character pipeline', ?, ?)`,
    )
    .run(RUN, pid, hostname(), at, at);
}

describe('run owners', () => {
  it('gives a run to one owner at a time and frees it on release', async () => {
    const lease = await a.owners.acquire(RUN, { command: 'character pipeline --resume run-1' });
    await expect(b.owners.acquire(RUN)).rejects.toThrow(RunBusyError);
    await expect(b.owners.acquire(RUN)).rejects.toThrow(
      /being run by another process \(pid \d+ .*character pipeline/,
    );
    await expect(b.owners.assertFree(RUN)).rejects.toThrow(RunBusyError);
    lease.release();
    (await b.owners.acquire(RUN)).release();
    expect(a.owners.owner(RUN)).toBeNull();
  });

  it('takes over from a dead owner, and from one whose heartbeat stopped long ago', async () => {
    const child = spawn('sleep', ['30']);
    await new Promise((r) => child.once('spawn', r));
    ownedBy(a, child.pid!);
    await expect(b.owners.acquire(RUN)).rejects.toThrow(RunBusyError);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    expect(pidAlive(child.pid!)).toBe(false);
    (await b.owners.acquire(RUN)).release();
    // This process is alive, but a heartbeat an hour old is a pid reused, not an owner.
    ownedBy(a, process.pid, 60 * 60_000);
    (await b.owners.acquire(RUN)).release();
  });

  it("waits for a killed owner's engine to exit before taking the run", async () => {
    const engine = spawn('sleep', ['1']);
    await new Promise((r) => engine.once('spawn', r));
    ownedBy(a, 2 ** 22 + 7); // the owner: dead; its engine still writes the run's files
    a.db.prepare('UPDATE run_owners SET engine_pid = ? WHERE run_id = ?').run(engine.pid, RUN);
    const started = Date.now();
    // Asynchronous: the event loop runs meanwhile (the main thread must never block), and the
    // exited engine is reaped (or left a zombie: dead either way).
    let ticks = 0;
    const timer = setInterval(() => ticks++, 50);
    (await b.owners.acquire(RUN)).release();
    clearInterval(timer);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThan(500);
    expect(waited).toBeLessThan(10_000);
    expect(ticks).toBeGreaterThan(3);
  });

  it('marks a run left running by a dead owner interrupted, with the command that resumes it', () => {
    a.runs.update(RUN, { status: 'running', step: 'train' });
    ownedBy(a, 2 ** 22 + 7); // beyond Linux's pid_max: never alive
    expect(b.owners.markInterrupted()).toEqual([RUN]);
    const run = b.runs.require(RUN);
    expect(run.status).toBe('interrupted');
    expect(run.error).toContain(`character pipeline --resume ${RUN}`);
    expect(b.owners.owner(RUN)).toBeNull();
  });

  it('leaves a run whose owner lives alone', async () => {
    const lease = await a.owners.acquire(RUN);
    a.runs.update(RUN, { status: 'running', step: 'generate' });
    expect(b.owners.markInterrupted()).toEqual([]);
    expect(b.runs.require(RUN).status).toBe('running');
    lease.release();
  });
});

describe('jobs a dead owner left running (issue 21)', () => {
  it('are marked interrupted when another process takes the run', async () => {
    const store = openStore(':memory:');
    const run = store.runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'smoke' });
    const job = store.jobs.create({
      runId: run.id,
      kind: 'sft',
      config: run.config.scaleConfig.training,
      totalSteps: 5,
      status: 'running',
    });
    const lease = await store.owners.acquire(run.id);
    expect(store.jobs.get(job.id)?.status).toBe('interrupted');
    lease.release();
    store.close();
  });
});
