/**
 * `character doctor`: is the data folder's database sound, and if not, the way back.
 * diagnose() only reads. repair() moves a damaged, empty or missing database aside, restores the
 * newest backup that passes SQLite's integrity check (or, with rebuild or no good backup, starts
 * a fresh one), then indexes the run folders the database does not know (rebuild-index.ts),
 * marks runs whose process died as interrupted, and writes runs.csv from the result.
 */
import { copyFileSync, existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { databasePath, fromStoredPath } from '../core/paths';
import { openStore } from '../store';
import { checkIntegrity, latestGoodBackup, listBackups, moveAside } from '../store/backup';
import { readRunManifest } from '../store/manifest';
import { runsOnDisk } from '../store/open';
import { listPersonaFiles } from '../store/persona-files';
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
  /** Runs whose run.json is newer than their row (a backup restored from before they moved on). */
  behind: string[];
  /** Registered checkpoints whose folder is gone: "<id> (<path>)". */
  missingFiles: string[];
  /** Persona version files (personas/<id>/v*.yaml|txt) the data folder holds. */
  personaFiles: number;
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
    behind: [],
    missingFiles: [],
    personaFiles: listPersonaFiles(dataDir).length,
    backups,
    actions: [],
  };
  if (!existsSync(path)) report.state = 'missing';
  else {
    report.problems = checkIntegrity(path, true);
    if (report.problems.length > 0) report.state = 'damaged';
  }
  if (report.state === 'ok') {
    const read = readRunsReadOnly(path, dataDir);
    if (read === null) report.state = 'damaged';
    else {
      const { runs, checkpoints } = read;
      report.runsInDatabase = runs.size;
      if (runs.size === 0 && folders.length > 0) report.state = 'empty';
      report.notIndexed = folders.filter((f) => !runs.has(f));
      report.behind = [...runs]
        .filter(([id, updatedAt]) => (readRunManifest(dataDir, id)?.updatedAt ?? '') > updatedAt)
        .map(([id]) => id);
      report.missingFiles = checkpoints.filter((c) => !existsSync(c.path)).map((c) => `${c.id} (${c.path})`);
    }
  } else report.notIndexed = folders;
  const good = report.state === 'ok' ? null : latestGoodBackup(dataDir);
  if (isFresh(report)) {
    // A data folder where nothing was ever saved: the first start creates the database.
  } else if (report.state !== 'ok') {
    report.actions.push(
      good
        ? `character doctor --repair: restore ${good.path} (${good.createdAt.toISOString()}), then index the run folders it lacks`
        : 'character doctor --repair: no good backup; a fresh database indexed from the run folders',
    );
  } else if (report.notIndexed.length > 0 || report.behind.length > 0) {
    report.actions.push(
      `character doctor --repair: index ${report.notIndexed.length} run folder(s) the database lacks and bring ${report.behind.length} run(s) up to their folders`,
    );
  }
  if (report.missingFiles.length > 0)
    report.actions.push(
      `${report.missingFiles.length} checkpoint(s) have no files: ${report.missingFiles.slice(0, 3).join(', ')}; character checkpoint delete <id> removes the row, character checkpoint rollback (or promote <another id>) moves chat off a promoted one`,
    );
  return report;
}

/** Nothing was ever saved here: no database, no run folder, no persona file, no backup. */
export function isFresh(r: DoctorReport): boolean {
  return r.state === 'missing' && r.runFolders === 0 && r.personaFiles === 0 && r.backups.length === 0;
}

/** Whether doctor has nothing to report. */
export function isHealthy(r: DoctorReport): boolean {
  return (
    (r.state === 'ok' || isFresh(r)) &&
    r.notIndexed.length === 0 &&
    r.behind.length === 0 &&
    r.missingFiles.length === 0
  );
}

/** The runs (id -> updated_at) and checkpoints of a database, without writing to it (no migration, no WAL switch). */
function readRunsReadOnly(
  path: string,
  dataDir: string,
): { runs: Map<string, string>; checkpoints: { id: string; path: string }[] } | null {
  let db: Database.Database | null = null;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    if ((db.pragma('user_version', { simple: true }) as number) === 0)
      return { runs: new Map(), checkpoints: [] };
    const runs = new Map(
      db
        .prepare<[], { id: string; updated_at: string }>('SELECT id, updated_at FROM runs')
        .all()
        .map((r) => [r.id, r.updated_at] as const),
    );
    const checkpoints = db
      .prepare<[], { id: string; path: string }>('SELECT id, path FROM checkpoints')
      .all()
      .map((c) => ({ id: c.id, path: fromStoredPath(dataDir, c.path) }));
    return { runs, checkpoints };
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
    for (const id of rebuilt.reconciled) actions.push(`brought run ${id} up to its folder (run.json, jobs/)`);
    if (rebuilt.personas.length > 0)
      actions.push(
        `stored ${rebuilt.personas.length} persona version(s) again from their files: ${rebuilt.personas.join(', ')}`,
      );
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
