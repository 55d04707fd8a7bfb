/**
 * Rebuilding the index from the run folders, for `character doctor` when the database is lost
 * and no backup is good (or a backup predates some runs). What a run folder keeps:
 * - run.json (written at every status change): the run's row as it was;
 *   older runs have none: runs.csv's line and the run id (…-<persona>-<scale>-xxxx) stand in,
 *   with the scale's default configuration;
 * - jobs/<job>/metrics.jsonl and jobs/<job>/checkpoints/step-NNNNNN/trainer_state.json (and the
 *   layout before jobs: metrics.jsonl and checkpoints/ in the run folder itself).
 * Runs the database already has are left alone. Teacher answers, evaluations and reviews are not
 * re-imported: their files stay in the run folder.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PIPELINE_STEPS, type RunStatus, type Scale, type TrainingConfig } from '../../src-shared/contract';
import { runPaths, runsCsvPath } from '../core/paths';
import { defaultRunConfig, parseRunConfig, type RunConfig } from '../core/run-config';
import { isScale } from '../core/scales';
import { parseCsv } from '../datasets/csv';
import { readJsonl } from '../datasets/jsonl';
import type { Store, TrainingKind } from '../store';
import { readCheckpointRecord } from '../store/checkpoint-record';
import { readRunManifest } from '../store/manifest';
import { listPersonaFiles } from '../store/persona-files';
import { parsePersona } from '../personas/parse';
import { interruptedMessage } from '../store/repos/run-owners';
import { runsOnDisk } from '../store/open';
import { errorText } from '../core/errors';

export interface RebuildReport {
  /** Runs added to the database, with where their row came from. */
  runs: { id: string; from: 'run.json' | 'runs.csv' | 'folder name' }[];
  jobs: number;
  checkpoints: number;
  metrics: number;
  /** Folders that could not be indexed, with why. */
  skipped: { id: string; reason: string }[];
  /** Runs the database had, brought up to their folders (reconcileRuns). */
  reconciled: string[];
  /** Persona versions stored again from their files ("pirat-ivan v2"). */
  personas: string[];
}

const KINDS: Record<string, TrainingKind> = { sft: 'sft', dpo: 'dpo', kd: 'kd', on_policy: 'on-policy' };

function csvRows(dataDir: string): Map<string, Record<string, string>> {
  const path = runsCsvPath(dataDir);
  const out = new Map<string, Record<string, string>>();
  if (!existsSync(path)) return out;
  const [header, ...rows] = parseCsv(readFileSync(path, 'utf8'));
  if (!header) return out;
  for (const cells of rows) {
    const row = Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
    if (row.run_id) out.set(row.run_id, row);
  }
  return out;
}

const STATUSES: readonly RunStatus[] = [
  'pending',
  'running',
  'completed',
  'failed',
  'cancelled',
  'interrupted',
];

function readJsonLines(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  // Lenient: a line cut by a crash is left out; the rest still counts.
  return readJsonl<unknown>(path).rows.filter(
    (v): v is Record<string, unknown> => typeof v === 'object' && v !== null,
  );
}

/** One job folder: its checkpoints (step, path, trainer_state.json) and metrics.jsonl. */
interface JobFolder {
  id: string;
  metricsFile: string;
  checkpoints: { step: number; path: string; state: Record<string, unknown> }[];
}

function jobFolder(id: string, dir: string): JobFolder {
  const cpDir = join(dir, 'checkpoints');
  const checkpoints = existsSync(cpDir)
    ? readdirSync(cpDir)
        .filter((n) => /^step-\d+$/.test(n))
        .map((n) => {
          const path = join(cpDir, n);
          let state: Record<string, unknown> = {};
          try {
            state = JSON.parse(readFileSync(join(path, 'trainer_state.json'), 'utf8')) as Record<
              string,
              unknown
            >;
          } catch {
            /* an adapter without trainer state: still indexed, without lineage hash */
          }
          return { step: Number(n.slice(5)), path, state };
        })
        .sort((a, b) => a.step - b.step)
    : [];
  return { id, metricsFile: join(dir, 'metrics.jsonl'), checkpoints };
}

function jobFolders(dataDir: string, runId: string): JobFolder[] {
  const paths = runPaths(dataDir, runId);
  const out: JobFolder[] = [];
  if (existsSync(paths.jobs)) {
    for (const e of readdirSync(paths.jobs, { withFileTypes: true })) {
      if (e.isDirectory()) out.push(jobFolder(e.name, join(paths.jobs, e.name)));
    }
  }
  // Before jobs/ existed, a run had one job, written in the run folder itself.
  if (existsSync(join(paths.dir, 'checkpoints')) || existsSync(join(paths.dir, 'metrics.jsonl')))
    out.push(jobFolder(`job-${runId}-rebuilt`, paths.dir));
  return out;
}

function fromFolderName(id: string): { personaId: string; scale: Scale } | null {
  // 20261121-214012-beethoven-mini-ab12 (persona ids may hold dashes).
  const m = /^\d{8}-\d{4,6}-(.+)-(smoke|mini|paper)-[a-z0-9]+$/.exec(id);
  return m ? { personaId: m[1] as string, scale: m[2] as Scale } : null;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Adds the runs on disk that the database lacks, with their jobs, checkpoints and metrics. */
export function rebuildIndex(store: Store, dataDir: string): RebuildReport {
  const report: RebuildReport = {
    runs: [],
    jobs: 0,
    checkpoints: 0,
    metrics: 0,
    skipped: [],
    reconciled: [],
    personas: [],
  };
  restorePersonaFiles(store, dataDir, report);
  const csv = csvRows(dataDir);
  for (const id of runsOnDisk(dataDir).folders.sort()) {
    if (store.runs.get(id)) continue;
    const manifest = readRunManifest(dataDir, id);
    const row = csv.get(id);
    const named = fromFolderName(id);
    const personaId = manifest?.personaId ?? row?.persona ?? named?.personaId;
    const scale = manifest?.scale ?? row?.scale ?? named?.scale;
    if (!personaId || !scale || !isScale(scale)) {
      report.skipped.push({
        id,
        reason: 'no run.json, no runs.csv line, and the name says no persona and scale',
      });
      continue;
    }
    let config: RunConfig;
    try {
      config = manifest ? parseRunConfig(manifest.config, id) : defaultRunConfig(scale, personaId);
    } catch (error) {
      report.skipped.push({ id, reason: `run.json's configuration: ${errorText(error)}` });
      continue;
    }
    const csvStatus = STATUSES.find((s) => s === row?.status);
    const status: RunStatus = manifest?.status ?? csvStatus ?? 'failed';
    const from = manifest ? 'run.json' : row ? 'runs.csv' : 'folder name';
    // A run stored running was not running when the database was lost.
    const stored: RunStatus = status === 'running' ? 'interrupted' : status;
    store.transaction(() => {
      store.runs.create({
        id,
        personaId,
        personaVersion: manifest?.personaVersion ?? (Number(row?.persona_version) || 1),
        scale,
        dir: runPaths(dataDir, id).dir,
        config,
        status: stored,
      });
      store.runs.update(id, {
        step: manifest?.step ?? null,
        error:
          stored === 'interrupted'
            ? interruptedMessage(id, manifest?.step ?? null, null)
            : (manifest?.error ??
              (stored === 'completed'
                ? null
                : `rebuilt by character doctor from ${from}; resume to finish it`)),
        completedSteps: manifest?.completedSteps ?? (status === 'completed' ? [...PIPELINE_STEPS] : []),
        timings: manifest?.timings ?? {},
      });
      for (const job of jobFolders(dataDir, id)) addJob(store, id, config, job, status, report);
    });
    report.runs.push({ id, from });
  }
  reconcileRuns(store, dataDir, report);
  return report;
}

function addJob(
  store: Store,
  runId: string,
  config: RunConfig,
  job: JobFolder,
  runStatus: RunStatus,
  report: RebuildReport,
): void {
  const last = job.checkpoints[job.checkpoints.length - 1];
  const training: TrainingConfig = config.scaleConfig.training;
  const kind = KINDS[String(last?.state.kind ?? '')] ?? (training.objective as TrainingKind);
  const steps = num(last?.state.step) ?? last?.step ?? 0;
  const total = num(last?.state.total_steps) ?? training.maxSteps;
  store.jobs.create({
    id: job.id,
    runId,
    kind,
    config: training,
    totalSteps: total,
    status: runStatus === 'completed' || steps >= total ? 'completed' : 'interrupted',
  });
  store.jobs.update(job.id, { step: steps });
  report.jobs += 1;
  const rows = readJsonLines(job.metricsFile).filter(
    (r) =>
      (r.kind === 'train' || r.kind === 'eval') && num(r.step) !== undefined && num(r.loss) !== undefined,
  );
  store.metrics.append(
    job.id,
    rows.map((r) => ({
      kind: r.kind as 'train' | 'eval',
      step: num(r.step) as number,
      loss: num(r.loss) as number,
      ...(num(r.lr) !== undefined ? { lr: num(r.lr) } : {}),
      ...(num(r.grad_norm) !== undefined ? { gradNorm: num(r.grad_norm) } : {}),
      ...(num(r.tokens_per_s) !== undefined ? { tokensPerS: num(r.tokens_per_s) } : {}),
    })),
  );
  report.metrics += rows.length;
  for (const cp of job.checkpoints) addCheckpoint(store, runId, job.id, training, cp, report);
}

/** A checkpoint folder's row: its id, state and promotion from checkpoint.json when it has one. */
function addCheckpoint(
  store: Store,
  runId: string,
  jobId: string,
  training: TrainingConfig,
  cp: JobFolder['checkpoints'][number],
  report: RebuildReport,
): void {
  const kept = readCheckpointRecord(cp.path);
  const id = kept && !store.checkpoints.get(kept.id) ? kept.id : undefined;
  const run = store.runs.require(runId);
  const row = store.checkpoints.insert({
    ...(id ? { id } : {}),
    runId,
    jobId,
    step: cp.step,
    path: cp.path,
    lineage: {
      personaId: run.personaId,
      personaVersion: run.personaVersion,
      dataHash: typeof cp.state.data_hash === 'string' ? cp.state.data_hash : '',
      config: training,
    },
    ...(kept && id ? { state: kept.state } : {}),
  });
  if (kept && id && kept.promotedAt) store.checkpoints.update(row.id, { promotedAt: kept.promotedAt });
  report.checkpoints += 1;
}

/**
 * Runs the database has, brought up to what their folders show: a restored backup taken
 * mid-run holds the run as `running` at train with no checkpoints, while run.json says it
 * completed and jobs/ holds its checkpoints. The newer run.json wins; jobs and checkpoints the
 * database lacks are added (ids kept from checkpoint.json); a job's step moves forward only.
 */
export function reconcileRuns(store: Store, dataDir: string, report: RebuildReport): void {
  const indexed = new Set(report.runs.map((r) => r.id));
  for (const run of store.runs.list()) {
    if (indexed.has(run.id)) continue;
    const manifest = readRunManifest(dataDir, run.id);
    const folders = existsSync(runPaths(dataDir, run.id).dir) ? jobFolders(dataDir, run.id) : [];
    let changed = false;
    store.transaction(() => {
      if (manifest && manifest.updatedAt > run.updatedAt) {
        const status: RunStatus = manifest.status === 'running' ? 'interrupted' : manifest.status;
        store.runs.update(run.id, {
          status,
          step: manifest.step,
          error: status === 'interrupted' ? interruptedMessage(run.id, manifest.step, null) : manifest.error,
          completedSteps: manifest.completedSteps,
          timings: manifest.timings,
        });
        changed = true;
      }
      const known = new Set(store.checkpoints.list({ runId: run.id }).map((c) => c.path));
      const training = run.config.scaleConfig.training;
      const runStatus = store.runs.require(run.id).status;
      for (const job of folders) {
        const row = store.jobs.get(job.id);
        if (!row) {
          addJob(store, run.id, run.config, job, runStatus, report);
          changed = true;
          continue;
        }
        const last = job.checkpoints[job.checkpoints.length - 1];
        const steps = num(last?.state.step) ?? last?.step ?? 0;
        if (steps > row.step) {
          store.jobs.update(job.id, {
            step: steps,
            ...(steps >= row.totalSteps || runStatus === 'completed' ? { status: 'completed' as const } : {}),
          });
          changed = true;
        }
        for (const cp of job.checkpoints) {
          if (known.has(cp.path)) continue;
          addCheckpoint(store, run.id, job.id, training, cp, report);
          changed = true;
        }
      }
    });
    if (changed) report.reconciled.push(run.id);
  }
}

/** Persona versions whose files (store/persona-files.ts) the database lacks: stored again. */
export function restorePersonaFiles(store: Store, dataDir: string, report: RebuildReport): void {
  for (const f of listPersonaFiles(dataDir)) {
    const { persona } = parsePersona(f.source, f.format, f.id);
    const restored = store.personas.restore({
      id: f.id,
      version: f.version,
      format: f.format,
      source: f.source,
      name: persona?.name ?? f.id,
      description: persona?.description ?? '',
    });
    if (restored) report.personas.push(`${f.id} v${f.version}`);
  }
}
