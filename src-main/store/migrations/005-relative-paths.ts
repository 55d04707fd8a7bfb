import type Database from 'better-sqlite3';

/**
 * Paths relative to the data folder. Earlier schemas stored a run's folder and each
 * checkpoint's folder as absolute paths, so a copied data folder (a backup) kept pointing at
 * the original's files: deleting a checkpoint with its files in the copy deleted the original's.
 * A stored path is rewritten relative to the data folder it was written in, found by the
 * layout every run folder has (<dataDir>/runs/<run id>/...), not by where the database is now:
 * a copy migrated elsewhere then points at its own files. A path that does not follow that
 * layout (a folder chosen by hand) stays absolute; the registry refuses to delete outside the
 * data folder.
 */
export function up(db: Database.Database): void {
  const runs = db.prepare<[], { id: string; dir: string }>('SELECT id, dir FROM runs').all();
  const writeRun = db.prepare('UPDATE runs SET dir = ? WHERE id = ?');
  for (const r of runs) {
    const rel = relativeToRunsFolder(r.dir, r.id);
    if (rel !== null) writeRun.run(rel, r.id);
  }
  const checkpoints = db
    .prepare<[], { id: string; run_id: string; path: string }>('SELECT id, run_id, path FROM checkpoints')
    .all();
  const writeCheckpoint = db.prepare('UPDATE checkpoints SET path = ? WHERE id = ?');
  for (const c of checkpoints) {
    const rel = relativeToRunsFolder(c.path, c.run_id);
    if (rel !== null) writeCheckpoint.run(rel, c.id);
  }
}

/** "runs/<id>/rest" for an absolute path with a runs/<id> segment, else null (left as it is). */
export function relativeToRunsFolder(path: string, runId: string): string | null {
  const isAbsolute = path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\');
  if (!isAbsolute || runId === '') return null;
  const parts = path.split(/[\\/]+/);
  // The last runs/<id> pair: a data folder may itself sit under a folder named runs.
  for (let i = parts.length - 2; i >= 0; i -= 1) {
    if (parts[i] === 'runs' && parts[i + 1] === runId) return parts.slice(i).join('/');
  }
  return null;
}
