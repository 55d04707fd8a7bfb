/**
 * The SQLite store: one database file per data folder, opened once by the main process or CLI.
 * Repositories are small typed method groups by domain; every statement is prepared with bound
 * values, and bulk writes run in one transaction.
 */
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from './errors';
import { migrate, schemaVersion } from './migrations';
import {
  auditRepo,
  examplesRepo,
  splitsRepo,
  type AuditRepo,
  type ExamplesRepo,
  type SplitsRepo,
} from './repos/examples';
import { checkpointsRepo, type CheckpointsRepo } from './repos/checkpoints';
import { evaluationsRepo, savingsRepo, type EvaluationsRepo, type SavingsRepo } from './repos/evaluations';
import {
  chatsRepo,
  goodPairsRepo,
  kvRepo,
  type ChatsRepo,
  type GoodPairsRepo,
  type KvRepo,
} from './repos/misc';
import { personasRepo, type PersonasRepo } from './repos/personas';
import { questionsRepo, type QuestionsRepo } from './repos/questions';
import { pairwiseRepo, type PairwiseRepo } from './repos/pairwise';
import { reviewsRepo, type ReviewsRepo } from './repos/reviews';
import { runOwnersRepo, type RunOwnersRepo } from './repos/run-owners';
import { runsRepo, type RunsRepo } from './repos/runs';
import { jobsRepo, metricsRepo, type JobsRepo, type MetricsRepo } from './repos/training';
import { errorText } from '../core/errors';

export { StoreError } from './errors';
export { MIGRATIONS, LATEST_SCHEMA_VERSION, migrate, schemaVersion, type Migration } from './migrations';
export { newId, nowIso } from './util';
export type { PersonaRecord, SavePersonaInput } from './repos/personas';
export type { RunRecord, CreateRunInput, RunPatch } from './repos/runs';
export type { RunOwner, RunLease, RunOwnersRepo } from './repos/run-owners';
export type { QuestionRecord } from './repos/questions';
export type { NewTeacherExample, ExampleQuery, AuditResult } from './repos/examples';
export type {
  TrainingJobRecord,
  TrainingKind,
  CreateJobInput,
  JobPatch,
  MetricInput,
} from './repos/training';
export type {
  CheckpointRecord,
  CheckpointState,
  NewCheckpoint,
  CheckpointPatch,
  PromotionEvent,
} from './repos/checkpoints';
export type { EvaluationRecord, EvaluationItemRecord } from './repos/evaluations';
export type { ReviewSheetRecord, NewReviewItem } from './repos/reviews';
export type { PairwiseSheetRecord, NewPairwiseItem, CreatePairwiseSheetInput } from './repos/pairwise';
export type { ChatLane, GoodPair } from './repos/misc';
export type {
  PersonasRepo,
  RunsRepo,
  QuestionsRepo,
  ExamplesRepo,
  AuditRepo,
  SplitsRepo,
  JobsRepo,
  MetricsRepo,
  CheckpointsRepo,
  EvaluationsRepo,
  SavingsRepo,
  ReviewsRepo,
  PairwiseRepo,
  ChatsRepo,
  GoodPairsRepo,
  KvRepo,
};

export interface Store {
  readonly path: string;
  /**
   * The data folder paths are stored relative to (runs.dir, checkpoints.path); the repositories
   * hand out absolute paths. Null for an in-memory store opened without one: paths kept as given.
   */
  readonly dataDir: string | null;
  readonly db: Database.Database;
  readonly schemaVersion: number;
  personas: PersonasRepo;
  runs: RunsRepo;
  questions: QuestionsRepo;
  examples: ExamplesRepo;
  audit: AuditRepo;
  splits: SplitsRepo;
  jobs: JobsRepo;
  metrics: MetricsRepo;
  checkpoints: CheckpointsRepo;
  evaluations: EvaluationsRepo;
  savings: SavingsRepo;
  reviews: ReviewsRepo;
  /** Pairwise A/B judgements of student against teacher answers (schema 7). */
  pairwise: PairwiseRepo;
  chats: ChatsRepo;
  goodPairs: GoodPairsRepo;
  kv: KvRepo;
  /** Which process runs which run (one owner per run; see repos/run-owners.ts). */
  owners: RunOwnersRepo;
  /** Runs fn in one transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/** Milliseconds a writer waits for another connection's lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

export interface OpenStoreOptions {
  /** Default: the database file's folder (null for ':memory:'). */
  dataDir?: string | null;
}

function storeDataDir(path: string, opts: OpenStoreOptions): string | null {
  if (opts.dataDir === null) return null;
  if (opts.dataDir !== undefined) return resolve(opts.dataDir);
  return path === ':memory:' ? null : dirname(resolve(path));
}

/**
 * Opens (creating if needed) and migrates the database at `path`; ':memory:' gives a private
 * in-memory database. Throws StoreError when the file cannot be opened or its schema is newer
 * than this code. The studio opens it through openDataStore (store/open.ts), which guards a data
 * folder's runs against an empty or damaged database and backs up before migrating.
 */
export function openStore(path: string, opts: OpenStoreOptions = {}): Store {
  const dataDir = storeDataDir(path, opts);
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (err) {
    throw new StoreError(`Cannot open database ${path}: ${errorText(err)}`, { path });
  }
  try {
    if (path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // WAL makes NORMAL durable against application crashes; only a power loss can drop the last commit.
    db.pragma('synchronous = NORMAL');
    migrate(db, undefined, path);
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError(`Cannot prepare database ${path}: ${errorText(err)}`, { path });
  }

  return {
    path,
    dataDir,
    db,
    schemaVersion: schemaVersion(db),
    personas: personasRepo(db, dataDir),
    runs: runsRepo(db, dataDir),
    questions: questionsRepo(db),
    examples: examplesRepo(db),
    audit: auditRepo(db),
    splits: splitsRepo(db),
    jobs: jobsRepo(db),
    metrics: metricsRepo(db),
    checkpoints: checkpointsRepo(db, dataDir),
    owners: runOwnersRepo(db),
    evaluations: evaluationsRepo(db),
    savings: savingsRepo(db),
    reviews: reviewsRepo(db),
    pairwise: pairwiseRepo(db),
    chats: chatsRepo(db),
    goodPairs: goodPairsRepo(db),
    kv: kvRepo(db),
    transaction: <T>(fn: () => T): T => db.transaction(fn)(),
    close: () => {
      if (db.open) db.close();
    },
  };
}
