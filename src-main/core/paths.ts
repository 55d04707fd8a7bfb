/**
 * The layout of a data folder: the database, the engine log, and the folder of one run,
 * <dataDir>/runs/<runId>/. Every artifact name is defined here once.
 */
import { accessSync, appendFileSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { StudioError } from './errors';

export interface RunPaths {
  dir: string;
  /** Questions of this run (all of them, with their role: train or held-out). */
  questions: string;
  teacherData: string;
  /** The teacher's token distributions, one file per answer (see topkFile). */
  teacherTopk: string;
  train: string;
  val: string;
  /** The held-out evaluation questions, never trained on. */
  heldOut: string;
  trainingConfig: string;
  /** One folder per training job (see jobDir). */
  jobs: string;
  evaluationResults: string;
  /** The in-character classifier fitted on training-question answers. */
  classifier: string;
  resultsReport: string;
  deployment: string;
  log: string;
}

export function databasePath(dataDir: string): string {
  return join(dataDir, 'studio.sqlite');
}

/** The base model's evaluation answers, kept between runs (evaluation/answer-cache.ts). */
export function evaluationCacheDir(dataDir: string): string {
  return join(dataDir, 'cache', 'evaluation');
}

export function engineLogPath(dataDir: string): string {
  return join(dataDir, 'logs', 'engine.log');
}

export function runsCsvPath(dataDir: string): string {
  return join(dataDir, 'runs.csv');
}

export function runsDir(dataDir: string): string {
  return join(dataDir, 'runs');
}

/** Copies of the database made with SQLite's backup API (before a migration, and daily). */
export function backupsDir(dataDir: string): string {
  return join(dataDir, 'backups');
}

/** A file per persona version (personas/<id>/v0001.yaml), from which `character doctor` rebuilds. */
export function personaFilesDir(dataDir: string): string {
  return join(dataDir, 'personas');
}

/** The manifest of one run (its database row as JSON), from which `character doctor` rebuilds. */
export function runManifestPath(dataDir: string, runId: string): string {
  return join(runsDir(dataDir), runId, 'run.json');
}

/** True when `path` is `dir` itself or lies inside it (both resolved; no `..` escapes). */
export function isInsideDir(dir: string, path: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * How a path is kept in the database: relative to the data folder when it lies inside it (so a
 * copied data folder points at its own files, never the original's), else as given.
 */
export function toStoredPath(dataDir: string | null, path: string): string {
  if (!dataDir || path === '' || !isAbsolute(path) || !isInsideDir(dataDir, path)) return path;
  return relative(resolve(dataDir), resolve(path)).split(sep).join('/');
}

/** The absolute path of a stored one: relative paths are inside the data folder. */
export function fromStoredPath(dataDir: string | null, stored: string): string {
  // A URI (a Tinker checkpoint's tinker://run/weights/step) is not a path in the data folder.
  if (!dataDir || stored === '' || isAbsolute(stored) || /^[a-z][a-z0-9+.-]*:\/\//i.test(stored))
    return stored;
  return join(resolve(dataDir), stored);
}

export function runPaths(dataDir: string, runId: string): RunPaths {
  const dir = join(runsDir(dataDir), runId);
  return {
    dir,
    questions: join(dir, 'questions.jsonl'),
    teacherData: join(dir, 'teacher_data.jsonl'),
    teacherTopk: join(dir, 'teacher_topk'),
    train: join(dir, 'train.jsonl'),
    val: join(dir, 'val.jsonl'),
    heldOut: join(dir, 'heldout.jsonl'),
    trainingConfig: join(dir, 'training_config.yaml'),
    jobs: join(dir, 'jobs'),
    evaluationResults: join(dir, 'evaluation_results.json'),
    classifier: join(dir, 'classifier', 'in_character.joblib'),
    resultsReport: join(dir, 'RESULTS_REPORT.md'),
    deployment: join(dir, 'DEPLOYMENT.md'),
    log: join(dir, 'run.log'),
  };
}

/** The folder of one training job: its metrics.jsonl and checkpoints/step-NNNNNN. */
export function jobDir(paths: Pick<RunPaths, 'jobs'>, jobId: string): string {
  return join(paths.jobs, jobId);
}

/** The file of one answer's top-k token distributions: teacher_topk/q000123.safetensors. */
export function topkFile(paths: Pick<RunPaths, 'teacherTopk'>, questionId: number): string {
  return join(paths.teacherTopk, `q${String(questionId).padStart(6, '0')}.safetensors`);
}

export function ensureRunDir(dataDir: string, runId: string): RunPaths {
  const paths = runPaths(dataDir, runId);
  makeDir(paths.dir);
  return paths;
}

/** A folder that cannot be created: read-only, or a file in the way. */
export class FolderNotWritableError extends StudioError {
  constructor(
    readonly folder: string,
    readonly reason: string,
  ) {
    super(`cannot write in ${folder}: ${reason}`, 'io', { path: folder, reason });
  }
}

/**
 * mkdir -p that says which folder is the problem. Node's recursive mkdir reports a read-only
 * parent as ENOENT or EACCES on the folder it wanted, not on the one that refused it.
 */
export function makeDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (!['ENOENT', 'EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST'].includes(code)) throw error;
    throw blockingFolder(dir, code);
  }
}

function blockingFolder(dir: string, code: string): FolderNotWritableError {
  // Walk up to the nearest folder that exists: that one refused the write.
  let at = resolve(dir);
  for (;;) {
    let st: ReturnType<typeof statSync> | null = null;
    try {
      st = statSync(at);
    } catch {
      st = null;
    }
    if (st) {
      if (!st.isDirectory()) return new FolderNotWritableError(at, 'it is a file, not a folder');
      try {
        accessSync(at, constants.W_OK);
      } catch {
        return new FolderNotWritableError(at, 'the folder is not writable (read-only or no permission)');
      }
      return new FolderNotWritableError(
        at,
        code === 'EROFS' ? 'the file system is read-only' : `mkdir failed (${code})`,
      );
    }
    const parent = dirname(at);
    if (parent === at) return new FolderNotWritableError(dir, `mkdir failed (${code})`);
    at = parent;
  }
}

/** A run id that sorts by time and says what it is: 20261121-2140-beethoven-mini-ab12. */
export function newRunId(personaId: string, scale: string, now: Date = new Date()): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}-${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  const rand = Math.random().toString(36).slice(2, 6);
  return `${stamp}-${personaId}-${scale}-${rand}`;
}

/** Append one timestamped line to the run's log (never secrets: callers pass redacted text). */
export function appendRunLog(paths: RunPaths, message: string): void {
  makeDir(paths.dir);
  appendFileSync(paths.log, `${new Date().toISOString()} ${message}\n`);
}
