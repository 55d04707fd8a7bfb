/**
 * Is the process that owns a run still there? The policy the store's run_owners table is read
 * with (store/repos/run-owners.ts keeps only the rows): a process on this host is alive while
 * its pid exists and is not a zombie, or while the engine it started does (the engine may still
 * be writing the run's files after its parent was killed), and its heartbeat is recent; on
 * another host (a shared data folder) the heartbeat alone decides.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/** A heartbeat older than this means the owner is gone, whatever its pid says (pid reuse), ms. */
export const SAME_HOST_STALE_MS = 10 * 60_000;
/** On another host only the heartbeat is seen: silent this long and the owner is gone, ms. */
export const OTHER_HOST_STALE_MS = 60_000;
/** How long a new owner waits for the engine of a killed owner to exit (it does on stdin EOF), ms. */
export const ORPHAN_ENGINE_WAIT_MS = 30_000;
/** How often that wait looks again, ms. */
const ORPHAN_ENGINE_POLL_MS = 200;

/** What the liveness of an owner is judged from. */
export interface OwnerProcess {
  pid: number;
  host: string;
  enginePid: number | null;
  /** ISO time of its last heartbeat. */
  heartbeatAt: string;
}

/** This machine's name, as owners record it. */
export function thisHost(): string {
  return hostname();
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
    // No /proc (macOS, Windows): the signal test above already said the process exists.
    return true;
  }
}

/** The owner's process is gone from this host but it had started an engine. */
export function killedLeavingEngine(o: OwnerProcess): boolean {
  return o.host === thisHost() && !pidAlive(o.pid) && o.enginePid !== null;
}

/** The owner process is gone but the engine it started still runs (winding down, or stuck). */
export function orphanEngine(o: OwnerProcess): boolean {
  return killedLeavingEngine(o) && pidAlive(o.enginePid as number);
}

export function ownerAlive(o: OwnerProcess, now = Date.now()): boolean {
  const age = now - Date.parse(o.heartbeatAt);
  if (!Number.isFinite(age)) return false;
  if (o.host !== thisHost()) return age < OTHER_HOST_STALE_MS;
  if (age > SAME_HOST_STALE_MS) return false;
  return pidAlive(o.pid) || (o.enginePid !== null && pidAlive(o.enginePid));
}

/**
 * Waits, without blocking the event loop, while `current()` names an owner whose engine outlived
 * it, for at most ORPHAN_ENGINE_WAIT_MS: a killed owner's engine exits once it sees its stdin
 * close, so a new owner gives it that moment rather than refusing (or sharing the run's files).
 */
export async function waitForOrphanEngine(current: () => OwnerProcess | null): Promise<void> {
  const until = Date.now() + ORPHAN_ENGINE_WAIT_MS;
  let cur = current();
  while (cur && orphanEngine(cur) && Date.now() < until) {
    await sleep(ORPHAN_ENGINE_POLL_MS);
    cur = current();
  }
}
