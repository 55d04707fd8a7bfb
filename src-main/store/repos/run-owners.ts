/**
 * One owner per run: the process running a run's steps holds its row in run_owners (pid, host,
 * the engine's pid, a heartbeat). Taking the row is one IMMEDIATE transaction, so two processes
 * can never both win; a second one is refused with the owner named. Whether an owner is alive
 * (its pid, /proc, this host, its heartbeat) is core/process-liveness.ts's policy; this module
 * keeps the rows. A run left `running` by a dead owner is `interrupted`.
 */
import type Database from 'better-sqlite3';
import { ConflictError } from '../../core/errors';
import {
  killedLeavingEngine,
  ownerAlive,
  thisHost,
  waitForOrphanEngine,
  type OwnerProcess,
} from '../../core/process-liveness';
import { nowIso } from '../util';

/** How often a live owner writes its heartbeat and its engine's pid (ms): one small UPDATE. */
export const HEARTBEAT_MS = 2_000;

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
      killedLeavingEngine(owner)
        ? `run ${owner.runId} is still being written by the engine (pid ${owner.enginePid}) of a process that was killed (pid ${owner.pid}); wait for it to exit, or end it, before resuming`
        : `run ${owner.runId} is being run by another process (pid ${owner.pid} on ${owner.host}${owner.command ? `, ${owner.command}` : ''}, since ${owner.startedAt}, heartbeat ${age} s ago); wait for it to finish or stop it (Ctrl-C) before resuming`,
      detail,
    );
  }
}

export interface RunOwnersRepo {
  /**
   * Takes the run for this process; rejects with RunBusyError when a live owner holds it. First
   * waits (asynchronously, bounded) for the engine of a killed owner to exit.
   */
  acquire(runId: string, opts?: AcquireOptions): Promise<RunLease>;
  /** The run's owner row, live or dead; null when nobody holds it. */
  owner(runId: string): RunOwner | null;
  /** Rejects with RunBusyError when a live process other than this one's leases holds the run. */
  assertFree(runId: string): Promise<void>;
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

function ownerProcess(r: OwnerRow): OwnerProcess {
  return { pid: r.pid, host: r.host, enginePid: r.engine_pid, heartbeatAt: r.heartbeat_at };
}

function isAlive(r: OwnerRow): boolean {
  return ownerAlive(ownerProcess(r));
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

  /** Waits for a killed owner's engine to exit (bounded; the event loop keeps running). */
  const orphanExit = (runId: string): Promise<void> =>
    waitForOrphanEngine(() => {
      const r = getStmt.get(runId);
      return r ? ownerProcess(r) : null;
    });

  const acquire = async (runId: string, opts: AcquireOptions = {}): Promise<RunLease> => {
    const token = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    const enginePid = (): number | null => {
      try {
        return opts.enginePid?.() ?? null;
      } catch {
        return null;
      }
    };
    await orphanExit(runId);
    db.transaction(() => {
      const cur = getStmt.get(runId);
      if (cur && isAlive(cur) && cur.token !== held.get(runId)) throw new RunBusyError(toOwner(cur));
      if (!held.has(runId)) abandonJobsStmt.run(runId);
      upsertStmt.run({
        run_id: runId,
        token,
        pid: process.pid,
        host: thisHost(),
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
    assertFree: async (runId) => {
      await orphanExit(runId);
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
