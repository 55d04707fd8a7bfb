/**
 * Opening a data folder's database safely. openStore would create an empty database wherever
 * it finds none, and SQLite reads a truncated file as an empty one: the runs listing then says
 * "no runs yet" while runs/ and runs.csv hold them. Here:
 * - a missing or empty database is created only when the data folder has no runs; otherwise the
 *   open is refused, pointing at `character doctor`;
 * - a damaged database (quick_check fails, or "file is not a database") is refused with its path;
 * - the database is backed up (SQLite's backup API) before a migration, and once a day.
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { backupsDir, databasePath, personaFilesDir, runsCsvPath, runsDir } from '../core/paths';
import { backupDatabase, backupIfDue, DAILY_BACKUP_MS, listBackups } from './backup';
import { listPersonaFiles } from './persona-files';
import { StoreError } from './errors';
import { LATEST_SCHEMA_VERSION, schemaVersion } from './migrations';
import { openStore, type Store } from './index';
import { errorText } from '../core/errors';

const DOCTOR = 'character doctor';

/** The run folders and runs.csv rows a data folder holds (what an empty database would hide). */
export function runsOnDisk(dataDir: string): { folders: string[]; csvRows: number } {
  const dir = runsDir(dataDir);
  const folders = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
    : [];
  const csv = runsCsvPath(dataDir);
  const csvRows = existsSync(csv)
    ? Math.max(
        0,
        readFileSync(csv, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '').length - 1,
      )
    : 0;
  return { folders, csvRows };
}

/** A database that cannot be used as it is; the message names the file and the way out. */
export class DatabaseDamagedError extends StoreError {
  constructor(path: string, problem: string, detail: Record<string, unknown> = {}) {
    super(
      `The database ${path} ${problem}. Run \`${DOCTOR}\` to check it, restore the last good backup or rebuild the index of runs from the run folders.`,
      { path, ...detail },
    );
  }
}

/** What besides runs says a database existed: persona files and backups, for the message. */
function heldWithoutRuns(dataDir: string): string | null {
  const personas = new Set(listPersonaFiles(dataDir).map((p) => p.id)).size;
  const backups = listBackups(dataDir).length;
  const parts = [
    ...(personas > 0 ? [`${personas} persona(s) in ${personaFilesDir(dataDir)}`] : []),
    ...(backups > 0 ? [`${backups} backup(s) in ${backupsDir(dataDir)}`] : []),
  ];
  return parts.length > 0 ? parts.join(' and ') : null;
}

/**
 * A data folder on a read-only disk (or without write permission) is not a damaged database:
 * SQLite says "unable to open database file", which sent users to `character doctor`.
 */
export class DataFolderReadOnlyError extends StoreError {
  constructor(dataDir: string, path: string, what: string) {
    super(
      `The data folder ${dataDir} is read-only (${what} cannot be written): the database ${path} is not damaged, but it cannot be opened here, so listing runs, chatting and training do not work. ` +
        `Make the folder writable, or copy it somewhere writable (cp -a ${dataDir} <copy>) and set CHARACTER_STUDIO_HOME=<copy>. ` +
        'What needs no data folder still works: constitution validate, import --out <file elsewhere>, --help.',
      { path, dataDir },
    );
  }
}

function assertWritable(dataDir: string, path: string): void {
  for (const [p, what] of [
    [dataDir, 'the folder'],
    [path, 'the database file'],
  ] as const) {
    try {
      accessSync(p, constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (['EACCES', 'EPERM', 'EROFS'].includes(code)) throw new DataFolderReadOnlyError(dataDir, path, what);
      throw error;
    }
  }
}

interface Precheck {
  version: number;
  db: Database.Database | null;
}

/** Opens the file as it is (no create, no WAL switch) and checks it; throws DatabaseDamagedError. */
function precheck(dataDir: string, path: string): Precheck {
  const { folders, csvRows } = runsOnDisk(dataDir);
  const hasRuns = folders.length > 0 || csvRows > 0;
  const runsText = `${folders.length} run folder(s) in ${runsDir(dataDir)}${csvRows ? ` and ${csvRows} row(s) in runs.csv` : ''}`;
  if (!existsSync(path)) {
    if (hasRuns) throw new DatabaseDamagedError(path, `is missing, but the data folder holds ${runsText}`);
    // No runs, but saved constitutions or backups: a database existed, and a fresh one would
    // hide what it held ("Unknown persona") until someone thought of `character doctor`.
    const held = heldWithoutRuns(dataDir);
    if (held) throw new DatabaseDamagedError(path, `is missing, but the data folder holds ${held}`);
    return { version: 0, db: null };
  }
  assertWritable(dataDir, path);
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch (error) {
    throw new DatabaseDamagedError(path, `cannot be opened (${errorText(error)})`);
  }
  try {
    const version = schemaVersion(db);
    const rows = db.pragma('quick_check') as Record<string, string>[];
    const lines = rows.map((r) => String(Object.values(r)[0]));
    if (!(lines.length === 1 && lines[0] === 'ok'))
      throw new DatabaseDamagedError(path, `is damaged (${lines.slice(0, 3).join('; ')})`);
    if (version === 0 && hasRuns) {
      const size = statSync(path).size;
      throw new DatabaseDamagedError(
        path,
        `is empty (${size} bytes, no tables), but the data folder holds ${runsText}: it was truncated or replaced`,
      );
    }
    return { version, db };
  } catch (error) {
    db.close();
    if (error instanceof StoreError) throw error;
    throw new DatabaseDamagedError(path, `is damaged (${errorText(error)})`);
  }
}

/**
 * The data folder's store, opened through the checks above; backs up before migrating (a
 * migration never runs without one) and when the newest backup is a day old (a daily backup
 * that fails, on a full disk say, is reported through `warn` and the data folder still opens,
 * so its runs can be read and space freed).
 */
export async function openDataStore(
  dataDir: string,
  warn: (message: string) => void = () => undefined,
): Promise<Store> {
  const path = databasePath(dataDir);
  const { version, db } = precheck(dataDir, path);
  if (db) {
    try {
      if (version > 0 && version < LATEST_SCHEMA_VERSION)
        await backupDatabase(db, dataDir, `before-v${LATEST_SCHEMA_VERSION}`);
      else if (version > 0) {
        try {
          await backupIfDue(db, dataDir);
        } catch (error) {
          warn(`the daily backup of ${path} failed (${errorText(error)}); the data folder opens without it`);
        }
      }
    } catch (error) {
      throw new StoreError(
        `Cannot back up the database ${path} before migrating it to schema ${LATEST_SCHEMA_VERSION}: ${errorText(error)}`,
        { path },
      );
    } finally {
      db.close();
    }
  }
  return openStore(path, { dataDir });
}

/** While the app runs: a backup whenever the newest is a day old (checked hourly). Returns stop(). */
export function startDailyBackups(store: Store, dataDir: string, onError?: (e: Error) => void): () => void {
  const check = (): void => {
    if (!store.db.open) return;
    backupIfDue(store.db, dataDir).catch((e: Error) => onError?.(e));
  };
  const timer = setInterval(check, Math.min(DAILY_BACKUP_MS, 60 * 60 * 1000));
  timer.unref();
  return () => clearInterval(timer);
}
