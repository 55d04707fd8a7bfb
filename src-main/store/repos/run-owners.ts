/**
 * One owner per run: the process running a run's steps holds its row in run_owners (pid, host,
 * the engine's pid, a heartbeat). Taking the row is one IMMEDIATE transaction, so two processes
 * can never both win; a second one is refused with the owner named. An owner is alive while its
 * process (or the engine it started, which may still be writing the run's files after its parent
 * was killed) exists on this host and its heartbeat is recent; on another host (a shared data
 * folder) the heartbeat alone decides. A run left `running` by a dead owner is `interrupted`.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type Database from 'better-sqlite3';
import { ConflictError } from '../../core/errors';
import { nowIso } from '../util';

/** How often a live owner writes its heartbeat and its engine's pid (ms): one small UPDATE. */
export const HEARTBEAT_MS = 2_000;
/** A heartbeat older than this means the owner is gone, whatever its pid says (pid reuse), ms. */
export const SAME_HOST_STALE_MS = 10 * 60_000;
/** On another host only the heartbeat is seen: silent this long and the owner is gone, ms. */
export const OTHER_HOST_STALE_MS = 60_000;

export interface RunOwner {
  runId: string;
  pid: number;
  host: string;
  enginePid: number | null;
  command: string;
  startedAt: string;
  heartbeatAt: string;
  alive: boolean;
}

/** What a process holds while it runs a run; release() in a finally. */
export interface RunLease {
  readonly runId: string;
  /** Writes the heartbeat now (a timer also does every HEARTBEAT_MS). */
  beat(): void;
  release(): void;
}

export interface AcquireOptions {
  /** Shown to a process that is refused, e.g. "character pipeline --resume". */
  command?: string;
  /** The engine's pid when one is running (read at every heartbeat). */
  enginePid?: () => number | null;
}

/** A second process tried to run a run that a live process owns. */
export class RunBusyError extends ConflictError {
  constructor(owner: RunOwner) {
    const age = Math.max(0, Math.round((Date.now() - Date.parse(owner.heartbeatAt)) / 1000));
    const detail = { runId: owner.runId, pid: owner.pid, host: owner.host, enginePid: owner.enginePid };
    super(
      owner.host === hostname() && !pidAlive(owner.pid) && owner.enginePid !== null
        ? `run ${owner.runId} is still being written by the engine (pid ${owner.enginePid}) of a process that was killed (pid ${owner.pid}); wait for it to exit, or end it, before resuming`
        : `run ${owner.runId} is being run by another process (pid ${owner.pid} on ${owner.host}${owner.command ? `, ${owner.command}` : ''}, since ${owner.startedAt}, heartbeat ${age} s ago); wait for it to finish or stop it (Ctrl-C) before resuming`,
      detail,
    );
  }
}

export interface RunOwnersRepo {
  /** Takes the run for this process; throws RunBusyError when a live owner holds it. */
  acquire(runId: string, opts?: AcquireOptions): RunLease;
  /** The run's owner row, live or dead; null when nobody holds it. */
  owner(runId: string): RunOwner | null;
  /** Throws RunBusyError when a live process other than this one's leases holds the run. */
  assertFree(runId: string): void;
  /**
   * Runs stored `running` whose owner is gone (killed, crashed, the machine restarted) become
   * `interrupted`, their error saying how to resume. Returns their ids.
   */
  markInterrupted(): string[];
}

interface OwnerRow {
  run_id: string;
  token: string;
  pid: number;
  host: string;
  engine_pid: number | null;
  command: string;
  started_at: string;
  heartbeat_at: string;
}

/** True while a process with this pid exists and is not a zombie (an unreaped, dead child). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // Linux: "pid (comm) S ..."; state Z is a zombie. Elsewhere the signal test stands.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** How long a new owner waits for the engine of a killed owner to exit (it does on stdin EOF), ms. */
export const ORPHAN_ENGINE_WAIT_MS = 30_000;

/** The owner process is gone but the engine it started still runs (winding down, or stuck). */
function orphanEngine(r: OwnerRow): boolean {
  return r.host === hostname() && !pidAlive(r.pid) && r.engine_pid !== null && pidAlive(r.engine_pid);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isAlive(r: OwnerRow, now = Date.now()): boolean {
  const age = now - Date.parse(r.heartbeat_at);
  if (!Number.isFinite(age)) return false;
  if (r.host !== hostname()) return age < OTHER_HOST_STALE_MS;
  if (age > SAME_HOST_STALE_MS) return false;
  return pidAlive(r.pid) || (r.engine_pid !== null && pidAlive(r.engine_pid));
}

function toOwner(r: OwnerRow): RunOwner {
  return {
    runId: r.run_id,
    pid: r.pid,
    host: r.host,
    enginePid: r.engine_pid,
    command: r.command,
    startedAt: r.started_at,
    heartbeatAt: r.heartbeat_at,
    alive: isAlive(r),
  };
}

/** The error an interrupted run carries: what happened and the command that continues it. */
export function interruptedMessage(runId: string, step: string | null, pid: number | null): string {
  return `interrupted: the process running it${pid !== null ? ` (pid ${pid})` : ''} stopped during ${step ?? 'start'}; resume with: character pipeline --resume ${runId}`;
}

export function runOwnersRepo(db: Database.Database): RunOwnersRepo {
  const getStmt = db.prepare<[string], OwnerRow>('SELECT * FROM run_owners WHERE run_id = ?');
  const upsertStmt = db.prepare(
    `INSERT INTO run_owners (run_id, token, pid, host, engine_pid, command, started_at, heartbeat_at)
     VALUES (@run_id, @token, @pid, @host, @engine_pid, @command, @now, @now)
     ON CONFLICT (run_id) DO UPDATE SET token = @token, pid = @pid, host = @host,
       engine_pid = @engine_pid, command = @command, started_at = @now, heartbeat_at = @now`,
  );
  const beatStmt = db.prepare(
    'UPDATE run_owners SET heartbeat_at = ?, engine_pid = ? WHERE run_id = ? AND token = ?',
  );
  const releaseStmt = db.prepare('DELETE FROM run_owners WHERE run_id = ? AND token = ?');
  const runningStmt = db.prepare<[], { id: string; step: string | null; pid: number | null }>(
    `SELECT runs.id AS id, runs.step AS step, run_owners.pid AS pid FROM runs
     LEFT JOIN run_owners ON run_owners.run_id = runs.id WHERE runs.status = 'running'`,
  );
  const interruptStmt = db.prepare(
    `UPDATE runs SET status = 'interrupted', error = ?, updated_at = ? WHERE id = ? AND status = 'running'`,
  );
  const dropOwnerStmt = db.prepare('DELETE FROM run_owners WHERE run_id = ?');
  // A job left `running` by an owner that died: no live process trains it (two such jobs once
  // stayed `running` after kill -9 and a resume).
  const abandonJobsStmt = db.prepare(
    `UPDATE training_jobs SET status = 'interrupted', error = 'its process died; the run was resumed or repaired'
     WHERE run_id = ? AND status = 'running'`,
  );
  /** Leases this process holds: its own runs are never "another process". */
  const held = new Map<string, string>();

  /**
   * A killed owner's engine exits once it sees its stdin close: give it that moment rather than
   * refusing (or sharing the run's files with it).
   */
  const waitForOrphanEngine = (runId: string): void => {
    const until = Date.now() + ORPHAN_ENGINE_WAIT_MS;
    let cur = getStmt.get(runId);
    while (cur && orphanEngine(cur) && Date.now() < until) {
      sleepSync(200);
      cur = getStmt.get(runId);
    }
  };

  const acquire = (runId: string, opts: AcquireOptions = {}): RunLease => {
    const token = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    const enginePid = (): number | null => {
      try {
        return opts.enginePid?.() ?? null;
      } catch {
        return null;
      }
    };
    waitForOrphanEngine(runId);
    db.transaction(() => {
      const cur = getStmt.get(runId);
      if (cur && isAlive(cur) && cur.token !== held.get(runId)) throw new RunBusyError(toOwner(cur));
      if (!held.has(runId)) abandonJobsStmt.run(runId);
      upsertStmt.run({
        run_id: runId,
        token,
        pid: process.pid,
        host: hostname(),
        engine_pid: enginePid(),
        command: opts.command ?? '',
        now: nowIso(),
      });
    }).immediate();
    held.set(runId, token);
    let released = false;
    const beat = (): void => {
      if (released || !db.open) return;
      try {
        beatStmt.run(nowIso(), enginePid(), runId, token);
      } catch {
        /* a busy or closed database: the next beat tries again */
      }
    };
    const timer = setInterval(beat, HEARTBEAT_MS);
    timer.unref();
    return {
      runId,
      beat,
      release: () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        if (held.get(runId) === token) held.delete(runId);
        if (db.open) releaseStmt.run(runId, token);
      },
    };
  };

  return {
    acquire,
    owner: (runId) => {
      const r = getStmt.get(runId);
      return r ? toOwner(r) : null;
    },
    assertFree: (runId) => {
      waitForOrphanEngine(runId);
      const r = getStmt.get(runId);
      if (r && isAlive(r) && r.token !== held.get(runId)) throw new RunBusyError(toOwner(r));
    },
    markInterrupted: () =>
      db
        .transaction(() => {
          const out: string[] = [];
          for (const r of runningStmt.all()) {
            // This process's own runs are alive by definition.
            if (held.has(r.id)) continue;
            const owner = getStmt.get(r.id);
            if (owner && isAlive(owner)) continue;
            interruptStmt.run(interruptedMessage(r.id, r.step, r.pid), nowIso(), r.id);
            abandonJobsStmt.run(r.id);
            if (owner) dropOwnerStmt.run(r.id);
            out.push(r.id);
          }
          return out;
        })
        .immediate(),
  };
}
