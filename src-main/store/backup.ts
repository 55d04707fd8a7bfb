/**
 * Database backups with SQLite's online backup API (better-sqlite3's db.backup): a consistent
 * copy even while the app writes. One before every migration and one a day while the app runs,
 * in <dataDir>/backups/studio-<UTC stamp>-<reason>.sqlite; the newest BACKUPS_KEPT stay.
 * A backup is written under a .partial name and renamed, so a killed backup is never mistaken
 * for one; `character doctor` restores the newest that passes SQLite's integrity check.
 */
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { backupsDir, makeDir } from '../core/paths';
import { errorText } from '../core/errors';

/** Backups kept (older ones are deleted after each new one). */
export const BACKUPS_KEPT = 10;
/** A daily backup is due when the newest backup is older than this (ms). */
export const DAILY_BACKUP_MS = 24 * 60 * 60 * 1000;
/** Pages copied per step of the backup API (4 KiB pages: 8 MiB a step between event-loop turns). */
const PAGES_PER_STEP = 2048;

export interface BackupInfo {
  path: string;
  /** From the file name: when the backup was made. */
  createdAt: Date;
  /** Why it was made: daily, before-v6, before-restore... */
  reason: string;
  bytes: number;
}

const NAME = /^studio-(\d{8})T(\d{6})(\d{3})Z-([a-z0-9-]+)\.sqlite$/;

function stamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace('.', ''); // 20261201T031500123Z
}

/** Backups in the data folder, newest first. */
export function listBackups(dataDir: string): BackupInfo[] {
  const dir = backupsDir(dataDir);
  if (!existsSync(dir)) return [];
  const out: BackupInfo[] = [];
  for (const name of readdirSync(dir)) {
    const m = NAME.exec(name);
    if (!m) continue;
    const [, d, t, ms, reason] = m as unknown as [string, string, string, string, string];
    const createdAt = new Date(
      `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}.${ms}Z`,
    );
    const path = join(dir, name);
    out.push({ path, createdAt, reason, bytes: statSync(path).size });
  }
  return out.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.path.localeCompare(a.path));
}

/** Copies the open database to backups/ with the backup API; returns the backup's path. */
export async function backupDatabase(
  db: Database.Database,
  dataDir: string,
  reason: string,
): Promise<string> {
  const dir = backupsDir(dataDir);
  makeDir(dir);
  const path = join(
    dir,
    `studio-${stamp(new Date())}-${reason.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}.sqlite`,
  );
  const partial = `${path}.partial`;
  rmSync(partial, { force: true });
  try {
    await db.backup(partial, { progress: () => PAGES_PER_STEP });
    renameSync(partial, path);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  for (const old of listBackups(dataDir).slice(BACKUPS_KEPT)) rmSync(old.path, { force: true });
  return path;
}

/** A daily backup when the newest is older than DAILY_BACKUP_MS (or there is none). */
export async function backupIfDue(
  db: Database.Database,
  dataDir: string,
  now: Date = new Date(),
): Promise<string | null> {
  const newest = listBackups(dataDir)[0];
  if (newest && now.getTime() - newest.createdAt.getTime() < DAILY_BACKUP_MS) return null;
  return backupDatabase(db, dataDir, 'daily');
}

/**
 * SQLite's own check of a database file: [] when it is sound, else its complaints (or the
 * error that stopped it: "file is not a database", "database disk image is malformed").
 * `full` runs integrity_check (also verifies indexes against tables), else quick_check.
 */
export function checkIntegrity(path: string, full = false): string[] {
  let db: Database.Database | null = null;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const rows = db.pragma(full ? 'integrity_check' : 'quick_check') as Record<string, string>[];
    const lines = rows.map((r) => String(Object.values(r)[0]));
    return lines.length === 1 && lines[0] === 'ok' ? [] : lines;
  } catch (error) {
    return [errorText(error)];
  } finally {
    db?.close();
  }
}

/** The newest backup that passes the integrity check, or null. */
export function latestGoodBackup(dataDir: string): BackupInfo | null {
  return listBackups(dataDir).find((b) => checkIntegrity(b.path, true).length === 0) ?? null;
}

/**
 * Moves the database (and its -wal/-shm) aside as <name>.broken-<stamp>, keeping it for a
 * later look; returns where it went, or null when there was no database.
 */
export function moveAside(path: string, label = 'broken'): string | null {
  if (!existsSync(path)) return null;
  const aside = `${path}.${label}-${stamp(new Date())}`;
  renameSync(path, aside);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(`${path}${suffix}`)) renameSync(`${path}${suffix}`, `${aside}${suffix}`);
  }
  return aside;
}
