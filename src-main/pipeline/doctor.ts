/**
 * `character doctor`: is the data folder's database sound, and if not, the way back.
 * diagnose() only reads. repair() moves a damaged, empty or missing database aside, restores the
 * newest backup that passes SQLite's integrity check (or, with rebuild or no good backup, starts
 * a fresh one), then indexes the run folders the database does not know (rebuild-index.ts),
 * marks runs whose process died as interrupted, and writes runs.csv from the result.
 */
import { copyFileSync, existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { databasePath } from '../core/paths';
import { openStore } from '../store';
import { checkIntegrity, latestGoodBackup, listBackups, moveAside } from '../store/backup';
import { runsOnDisk } from '../store/open';
import { rebuildIndex, type RebuildReport } from './rebuild-index';
import { writeRunsCsv } from './runs-csv';

export interface DoctorReport {
  database: string;
  /** ok; missing (fine while no run folder exists); empty (no runs, yet run folders); damaged */
  state: 'missing' | 'empty' | 'damaged' | 'ok';
  /** SQLite's complaints (integrity_check), or the error that stopped it. */
  problems: string[];
  /** Runs the database holds (null when it cannot be read). */
  runsInDatabase: number | null;
  runFolders: number;
  /** Run folders the database has no row for. */
  notIndexed: string[];
  backups: { path: string; createdAt: string; reason: string; bytes: number }[];
  /** What to do (diagnose) or what was done (repair). */
  actions: string[];
}

export function diagnose(dataDir: string): DoctorReport {
  const path = databasePath(dataDir);
  const { folders } = runsOnDisk(dataDir);
  const backups = listBackups(dataDir).map((b) => ({ ...b, createdAt: b.createdAt.toISOString() }));
  const report: DoctorReport = {
    database: path,
    state: 'ok',
    problems: [],
    runsInDatabase: null,
    runFolders: folders.length,
    notIndexed: [],
    backups,
    actions: [],
  };
  if (!existsSync(path)) report.state = 'missing';
  else {
    report.problems = checkIntegrity(path, true);
    if (report.problems.length > 0) report.state = 'damaged';
  }
  if (report.state === 'ok') {
    const runs = readRunsReadOnly(path);
    if (runs === null) report.state = 'damaged';
    else {
      report.runsInDatabase = runs.size;
      if (runs.size === 0 && folders.length > 0) report.state = 'empty';
      report.notIndexed = folders.filter((f) => !runs.has(f));
    }
  } else report.notIndexed = folders;
  const good = report.state === 'ok' ? null : latestGoodBackup(dataDir);
  if (report.state === 'missing' && folders.length === 0) {
    // A data folder where nothing has run yet: the first start creates the database.
  } else if (report.state !== 'ok') {
    report.actions.push(
      good
        ? `character doctor --repair: restore ${good.path} (${good.createdAt.toISOString()}), then index the run folders it lacks`
        : 'character doctor --repair: no good backup; a fresh database indexed from the run folders',
    );
  } else if (report.notIndexed.length > 0) {
    report.actions.push(
      `character doctor --repair: index ${report.notIndexed.length} run folder(s) the database lacks`,
    );
  }
  return report;
}

/** The run ids of a database without writing to it (no migration, no WAL switch). */
function readRunsReadOnly(path: string): Set<string> | null {
  let db: Database.Database | null = null;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    if ((db.pragma('user_version', { simple: true }) as number) === 0) return new Set();
    return new Set(
      db
        .prepare<[], { id: string }>('SELECT id FROM runs')
        .all()
        .map((r) => r.id),
    );
  } catch {
    return null;
  } finally {
    db?.close();
  }
}

export interface RepairOptions {
  /** Ignore backups: a fresh database from the run folders alone. */
  rebuild?: boolean;
}

export interface RepairReport extends DoctorReport {
  restoredFrom: string | null;
  movedAside: string | null;
  rebuilt: RebuildReport;
  interrupted: string[];
}

export function repair(dataDir: string, opts: RepairOptions = {}): RepairReport {
  const before = diagnose(dataDir);
  const path = databasePath(dataDir);
  const actions: string[] = [];
  let restoredFrom: string | null = null;
  let movedAside: string | null = null;
  if (before.state !== 'ok' || opts.rebuild) {
    movedAside = moveAside(path, opts.rebuild && before.state === 'ok' ? 'before-rebuild' : 'broken');
    if (movedAside) actions.push(`moved the ${before.state} database aside: ${movedAside}`);
    const good = opts.rebuild ? null : latestGoodBackup(dataDir);
    if (good) {
      copyFileSync(good.path, path);
      restoredFrom = good.path;
      actions.push(`restored ${good.path} (backup of ${good.createdAt.toISOString()})`);
    } else actions.push('started a fresh database');
  }
  const store = openStore(path, { dataDir });
  try {
    const rebuilt = rebuildIndex(store, dataDir);
    for (const r of rebuilt.runs) actions.push(`indexed run ${r.id} (from ${r.from})`);
    for (const s of rebuilt.skipped) actions.push(`could not index ${s.id}: ${s.reason}`);
    if (rebuilt.runs.length > 0)
      actions.push(
        `with ${rebuilt.jobs} training job(s), ${rebuilt.checkpoints} checkpoint(s), ${rebuilt.metrics} metric(s)`,
      );
    const interrupted = store.owners.markInterrupted();
    for (const id of interrupted) actions.push(`run ${id} was left running by a dead process: interrupted`);
    writeRunsCsv({ dataDir, store });
    return { ...diagnose(dataDir), actions, restoredFrom, movedAside, rebuilt, interrupted };
  } finally {
    store.close();
  }
}
