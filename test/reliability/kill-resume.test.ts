/**
 * Item 2: one owner per run, and a run whose owner died is shown interrupted. One smoke run on
 * the engine's tiny random model is killed (kill -9) at every pipeline step, and its engine is
 * killed at every step that uses one. Each time, while the first process still lives, a second
 * `character pipeline --resume` must be refused without touching the run; after the kill the run
 * must read `interrupted` (or `failed`, when only the engine died) with the command that resumes
 * it; the next process resumes. At the end the run completes with nothing lost or duplicated:
 * teacher answers, checkpoint rows, metrics.jsonl.
 *
 * Every step is held for PAUSE_MS at its start by a preloaded hook (pause-at-step.mjs), so even
 * the steps that take milliseconds are killed inside (train is killed mid-training); the process
 * is SIGSTOPped while the second one tries, so the kill lands in the step it was meant for. The
 * engine is killed as soon as the step starts it, with the step's first call in flight.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPELINE_STEPS, type PipelineStep } from '../../src-shared/contract';
import { databasePath } from '../../src-main/core/paths';
import { readRunsCsv } from '../../src-main/doctor/runs-csv';
import { buildTinyModel, cli, jsonOut, waitFor, type CliResult } from './helpers';

const PAUSE_MS = 1500;
const ENGINE_STEPS: ReadonlySet<PipelineStep> = new Set(['generate', 'train', 'evaluate', 'savings']);
const HOOK = pathToFileURL(join(__dirname, 'pause-at-step.mjs')).href;
const ENV = { RELIABILITY_PAUSE_MS: String(PAUSE_MS), NODE_OPTIONS: `--import ${HOOK}` };

let work: string;
const started: ChildProcess[] = [];
let model: string;
let home: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'rel-kill-'));
  model = join(work, 'tiny-model');
  home = join(work, 'home');
  buildTinyModel(model);
});
afterAll(() => {
  // A failed assertion may leave a process stopped (SIGSTOP) or running: end the ones started here.
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

interface RunRow {
  id: string;
  status: string;
  step: PipelineStep | null;
  error: string | null;
  completed_steps: string;
}

/** Reads the database as another process would (read-only; it may not exist yet). */
function query<T>(sql: string, ...params: unknown[]): T | undefined {
  if (!existsSync(databasePath(home))) return undefined;
  try {
    const db = new Database(databasePath(home), { readonly: true, timeout: 2000 });
    try {
      return db.prepare(sql).get(...params) as T | undefined;
    } finally {
      db.close();
    }
  } catch {
    return undefined; // being created or migrated
  }
}

const runRow = (): RunRow | undefined => query<RunRow>('SELECT * FROM runs LIMIT 1');

/** The direct children of a process (its engine), from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid && fields[0] !== 'Z') out.push(Number(name));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

interface Started {
  child: ChildProcess;
  done: Promise<CliResult>;
  exited: () => boolean;
  startedAt: string;
}

function start(args: string[]): Started {
  let child: ChildProcess | null = null;
  let exited = false;
  const startedAt = new Date().toISOString();
  const done = cli(args, home, { env: ENV, onStart: (c) => (child = c), timeoutMs: 300_000 }).then((r) => {
    exited = true;
    return r;
  });
  started.push(child!);
  return { child: child!, done, exited: () => exited, startedAt };
}

/** Until the run stores `step` as running; fails if the process ends or the run moves past it. */
async function untilRunning(p: Started, step: PipelineStep): Promise<RunRow> {
  return waitFor(
    `step ${step} running`,
    () => {
      if (p.exited()) throw new Error(`the process ended before ${step} ran`);
      const r = runRow();
      if (!r || r.status !== 'running' || r.step === null) return undefined;
      if (PIPELINE_STEPS.indexOf(r.step) > PIPELINE_STEPS.indexOf(step))
        throw new Error(`the run went past ${step} to ${r.step} before the kill`);
      return r.step === step ? r : undefined;
    },
    180_000,
  );
}

/** While `p` is stopped: a second process must be refused and leave the run as it was. */
async function secondIsRefused(runId: string): Promise<void> {
  const before = runRow();
  const second = await cli(['pipeline', '--resume', runId], home, { timeoutMs: 60_000 });
  expect(second.code, second.stderr).toBe(1);
  expect(second.stderr).toMatch(/being run by another process \(pid \d+/);
  const after = runRow();
  expect(after?.completed_steps).toBe(before?.completed_steps);
  expect(after?.status).toBe('running');
}

/** `character runs` until the run is no longer shown running (an orphaned engine exits on EOF). */
async function statusAfterKill(runId: string): Promise<{ status: string; error: string | null }> {
  const until = Date.now() + 90_000;
  for (;;) {
    const listed = jsonOut<{ id: string; status: string; error: string | null }[]>(
      await cli(['runs', '--json'], home, { timeoutMs: 60_000 }),
    ).find((r) => r.id === runId);
    if (listed && listed.status !== 'running') return listed;
    if (Date.now() > until) throw new Error(`run ${runId} still shown running 90 s after its process died`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('kill -9 at every step, with a second process trying to resume', () => {
  it('refuses the second owner, shows the dead one interrupted, and completes intact', async () => {
    let runId = '';
    const killed: string[] = [];
    for (const step of PIPELINE_STEPS) {
      // The CLI first: the next process then resumes AT this step, so the engine it starts is
      // this step's, busy with its first call when it is killed.
      for (const target of ENGINE_STEPS.has(step) ? (['cli', 'engine'] as const) : (['cli'] as const)) {
        const p = start(
          runId
            ? ['pipeline', '--resume', runId]
            : ['pipeline', 'beethoven', '--scale', 'smoke', '--model', `local:${model}`],
        );
        const row = await untilRunning(p, step);
        runId = row.id;
        const pid = p.child.pid!;
        if (target === 'engine') {
          // The step's first engine call started it: the call is in flight.
          await waitFor(
            `the engine of ${step}`,
            () => (childrenOf(pid).length > 0 ? true : undefined),
            120_000,
          );
        } else if (step === 'train') {
          // Mid-training: a metric written by this process (a checkpoint may follow).
          await waitFor(
            'a training metric',
            () =>
              query<{ n: number }>(
                `SELECT COUNT(*) AS n FROM step_metrics m JOIN training_jobs j ON j.id = m.job_id
                 WHERE j.run_id = ? AND m.created_at > ?`,
                runId,
                p.startedAt,
              )?.n
                ? true
                : undefined,
            180_000,
          );
        }
        p.child.kill('SIGSTOP');
        await secondIsRefused(runId);
        if (target === 'engine') {
          const engines = childrenOf(pid);
          expect(engines.length).toBeGreaterThan(0);
          for (const e of engines) process.kill(e, 'SIGKILL');
          p.child.kill('SIGCONT');
          const r = await p.done;
          expect(r.code, `${step}: the CLI should fail when its engine dies`).toBe(1);
          const after = await statusAfterKill(runId);
          expect(after.status).toBe('failed');
        } else {
          p.child.kill('SIGKILL');
          await p.done;
          const after = await statusAfterKill(runId);
          expect(after.status, `after kill -9 in ${step}`).toBe('interrupted');
          expect(after.error).toContain(`character pipeline --resume ${runId}`);
          expect(after.error).toContain(step);
        }
        killed.push(`${target}@${step}`);
      }
    }
    expect(killed).toHaveLength(PIPELINE_STEPS.length + ENGINE_STEPS.size);

    const last = await cli(['pipeline', '--resume', runId, '--json'], home, { timeoutMs: 300_000 });
    expect(last.code, last.stderr).toBe(0);
    const db = new Database(databasePath(home), { readonly: true });
    try {
      const run = db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as RunRow;
      expect(run.status).toBe('completed');
      expect(JSON.parse(run.completed_steps)).toEqual([...PIPELINE_STEPS]);
      // Teacher answers: one per question, none lost.
      const answers = db.prepare('SELECT question_id FROM teacher_examples WHERE run_id = ?').all(runId) as {
        question_id: number;
      }[];
      const questions = db.prepare('SELECT COUNT(*) AS n FROM questions WHERE run_id = ?').get(runId) as {
        n: number;
      };
      expect(new Set(answers.map((a) => a.question_id)).size).toBe(answers.length);
      expect(answers.length).toBe(questions.n);
      // Checkpoints: one row per job and step, each with its files.
      const cps = db.prepare('SELECT job_id, step, path FROM checkpoints WHERE run_id = ?').all(runId) as {
        job_id: string;
        step: number;
        path: string;
      }[];
      expect(cps.length).toBeGreaterThan(0);
      expect(new Set(cps.map((c) => `${c.job_id}/${c.step}`)).size).toBe(cps.length);
      expect(cps.every((c) => existsSync(join(home, c.path)))).toBe(true);
      // metrics.jsonl: one loss curve per job, steps rising (two writers would interleave).
      const jobs = join(home, 'runs', runId, 'jobs');
      for (const job of readdirSync(jobs)) {
        // A job killed while loading its model wrote no metrics.
        if (!existsSync(join(jobs, job, 'metrics.jsonl'))) continue;
        const rows = readFileSync(join(jobs, job, 'metrics.jsonl'), 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as { kind: string; step: number });
        const train = rows.filter((r) => r.kind === 'train').map((r) => r.step);
        expect(train, `${job}/metrics.jsonl`).toEqual([...train].sort((a, b) => a - b));
        expect(new Set(train).size).toBe(train.length);
      }
    } finally {
      db.close();
    }
    expect(readRunsCsv(home).find((r) => r.run_id === runId)?.status).toBe('completed');
  });
});
