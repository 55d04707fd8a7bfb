/**
 * The whole pipeline end to end through the real CLI entry (`node bin/character.mjs`), on a
 * tiny randomly initialised model built locally by the engine (its answers are gibberish: this
 * checks mechanics and honesty of the numbers, not quality). Plus a crash in the middle of
 * teacher generation: the CLI is killed, resumed, and no question is lost or answered twice.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvaluationItemRow, EvaluationSummary } from '../../src-shared/contract';
import { difflibRatio } from '../../src-main/evaluation/metrics';
import { readRunsCsv } from '../../src-main/doctor/runs-csv';
import { databasePath } from '../../src-main/core/paths';

const ROOT = resolve(__dirname, '..', '..');
const PYTHON = join(ROOT, 'engine', '.venv', 'bin', 'python');
const CLI = join(ROOT, 'bin', 'character.mjs');

let work: string;
let modelDir: string;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], home: string, onStart?: (child: ChildProcess) => void): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      // One torch thread: the tiny model gains nothing from two, and on a shared, busy machine
      // two threads spin-wait on each other (the engine documents a 30x slowdown at load 12).
      env: {
        ...process.env,
        CHARACTER_STUDIO_HOME: home,
        CI: '1',
        CHARACTER_ENGINE_THREADS: process.env.CHARACTER_ENGINE_THREADS ?? '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    onStart?.(child);
  });
}

function jsonOut<T>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`CLI stdout is not JSON (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

function readJsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cs-smoke-'));
  modelDir = join(work, 'tiny-model');
  const built = spawnSync(PYTHON, ['-m', 'character_dev.tiny', modelDir], {
    cwd: join(ROOT, 'engine'),
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`tiny model build failed: ${built.stderr}`);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Outcome {
  run: { id: string; status: string; dir: string; personaId: string };
  evaluation: EvaluationSummary | null;
}

describe('character pipeline --scale smoke (tiny random model)', () => {
  it('runs every step through the CLI and leaves every artifact with numbers from real outputs', async () => {
    const home = join(work, 'home-full');
    const started = Date.now();
    const r = await cli(
      ['pipeline', 'beethoven', '--scale', 'smoke', '--model', `local:${modelDir}`, '--json'],
      home,
    );
    const seconds = (Date.now() - started) / 1000;
    expect(r.code, r.stderr).toBe(0);
    const out = jsonOut<Outcome>(r);
    expect(out.run.status).toBe('completed');
    const dir = out.run.dir;
    expect(dir).toBe(join(home, 'runs', out.run.id));

    // Files of the run folder.
    for (const f of [
      'teacher_data.jsonl',
      'train.jsonl',
      'val.jsonl',
      'training_config.yaml',
      'evaluation_results.json',
      'RESULTS_REPORT.md',
      'DEPLOYMENT.md',
    ]) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const teacher = readJsonl(join(dir, 'teacher_data.jsonl'));
    expect(teacher).toHaveLength(24);
    const train = readJsonl(join(dir, 'train.jsonl'));
    expect(train.length).toBeGreaterThan(0);
    const heldOutQuestions = new Set(readJsonl(join(dir, 'heldout.jsonl')).map((q) => q.question));
    expect(heldOutQuestions.size).toBe(8);
    for (const row of train) {
      const messages = row.messages as { role: string; content: string }[];
      // The student never sees the constitution, and never trains on a held-out question.
      expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
      expect(heldOutQuestions.has(messages[0]!.content)).toBe(false);
      // The teacher's token distributions for this answer were captured while it generated.
      expect(typeof row.teacher_topk).toBe('string');
      expect(existsSync(join(dir, row.teacher_topk as string)), row.teacher_topk as string).toBe(true);
    }
    // One training job, in its own folder: metrics.jsonl and checkpoints/.
    const [jobId, ...otherJobs] = readdirSync(join(dir, 'jobs'));
    expect(otherJobs).toEqual([]);
    const jobFolder = join(dir, 'jobs', jobId!);
    const metrics = readJsonl(join(jobFolder, 'metrics.jsonl'));
    expect(metrics.filter((m) => m.kind === 'train')).toHaveLength(12);
    expect(readFileSync(join(dir, 'training_config.yaml'), 'utf8')).toMatch(/lora_rank: 8/);

    // A checkpoint with its adapter files.
    const ckptDirs = readdirSync(join(jobFolder, 'checkpoints'));
    expect(ckptDirs).toContain('step-000012');
    const final = join(jobFolder, 'checkpoints', 'step-000012');
    expect(existsSync(join(final, 'adapter_config.json'))).toBe(true);
    expect(existsSync(join(final, 'adapter_model.safetensors'))).toBe(true);

    // Evaluation numbers recomputed from the stored answers.
    const results = JSON.parse(readFileSync(join(dir, 'evaluation_results.json'), 'utf8')) as {
      summary: EvaluationSummary;
      items: EvaluationItemRow[];
    };
    expect(results.items).toHaveLength(8);
    const teacherAnswerOf = new Map(teacher.map((t) => [t.question as string, t.answer as string]));
    let sum = 0;
    for (const item of results.items) {
      // The teacher column is the answer the generate step stored for that held-out question.
      expect(item.answers.teacher).toBe(teacherAnswerOf.get(item.question));
      const recomputed = difflibRatio(item.answers.student, item.answers.teacher);
      expect(item.similarityToTeacher.student.difflib).toBeCloseTo(recomputed, 10);
      expect(item.similarityToTeacher.base.difflib).toBeCloseTo(
        difflibRatio(item.answers.base, item.answers.teacher),
        10,
      );
      sum += recomputed;
      for (const role of ['student', 'teacher', 'base'] as const) {
        expect(item.inCharacter[role]).toBeGreaterThanOrEqual(0);
        expect(item.inCharacter[role]).toBeLessThanOrEqual(1);
      }
    }
    expect(results.summary.difflib.student).toBeCloseTo(sum / results.items.length, 10);
    const share = results.items.filter((i) => i.inCharacter.student >= 0.5).length / results.items.length;
    expect(results.summary.inCharacterShare.student).toBeCloseTo(share, 10);
    expect(results.summary.valLoss).toBeGreaterThan(0);
    expect(results.summary.perplexity).toBeCloseTo(Math.exp(results.summary.valLoss ?? NaN), 6);
    expect(typeof results.summary.gate.passed).toBe('boolean');
    // Distillation quality: per-token KL of student and base to the teacher, on its held-out answers.
    const d = results.summary.distillation;
    expect(d).not.toBeNull();
    expect(d!.answers).toBe(8);
    expect(d!.klBase).toBeGreaterThan(0);
    expect(d!.klStudent).toBeGreaterThanOrEqual(0);
    expect(d!.captured).toBeCloseTo(1 - d!.klStudent / d!.klBase, 10);
    expect(d!.intervals.captured.low).toBeLessThanOrEqual(d!.captured);
    expect(d!.intervals.captured.high).toBeGreaterThanOrEqual(d!.captured);
    expect(results.summary.gate.score).toBe('captured');
    // A checkpoint that passes the gate is promoted; one that does not stays a candidate, and
    // the report says which and why.
    const report = readFileSync(join(dir, 'RESULTS_REPORT.md'), 'utf8');
    if (results.summary.gate.passed) expect(report).toMatch(/passed the promotion gate and was promoted/);
    else expect(report).toMatch(/was not promoted: /);
    expect(results.summary.intervals?.inCharacterShare.student.low).toBeLessThanOrEqual(
      results.summary.inCharacterShare.student,
    );

    // runs.csv and the database.
    const csv = readRunsCsv(home);
    expect(csv.find((row) => row.run_id === out.run.id)?.status).toBe('completed');
    const db = new Database(databasePath(home), { readonly: true });
    try {
      const run = db.prepare('SELECT status, error FROM runs WHERE id = ?').get(out.run.id) as {
        status: string;
        error: string | null;
      };
      expect(run).toEqual({ status: 'completed', error: null });
      const count = (sql: string): number => (db.prepare(sql).get(out.run.id) as { n: number }).n;
      const evaluated = db
        .prepare(
          'SELECT c.state FROM checkpoints c JOIN evaluations e ON e.checkpoint_id = c.id WHERE e.run_id = ?',
        )
        .get(out.run.id) as { state: string };
      expect(evaluated.state).toBe(results.summary.gate.passed ? 'promoted' : 'candidate');
      expect(count('SELECT COUNT(*) AS n FROM questions WHERE run_id = ?')).toBe(24);
      expect(count('SELECT COUNT(*) AS n FROM questions WHERE run_id = ? AND heldout = 1')).toBe(8);
      expect(count('SELECT COUNT(DISTINCT question_id) AS n FROM teacher_examples WHERE run_id = ?')).toBe(
        24,
      );
      expect(
        count(
          `SELECT COUNT(*) AS n FROM step_metrics m JOIN training_jobs j ON j.id = m.job_id WHERE j.run_id = ? AND m.kind = 'train'`,
        ),
      ).toBe(12);
      const cps = db
        .prepare('SELECT path, lineage FROM checkpoints WHERE run_id = ? ORDER BY step')
        .all(out.run.id) as {
        path: string;
        lineage: string;
      }[];
      // The smoke scale saves at step 6 and at the end (12): both registered with their lineage.
      expect(cps.length).toBeGreaterThanOrEqual(2);
      const lineages = cps.map(
        (c) => JSON.parse(c.lineage) as { personaId: string; personaVersion: number; dataHash: string },
      );
      for (const lineage of lineages) {
        expect(lineage.personaId).toBe('beethoven');
        expect(lineage.personaVersion).toBeGreaterThanOrEqual(1);
        expect(lineage.dataHash).toMatch(/^[0-9a-f]{16,}$/);
      }
      expect(new Set(lineages.map((l) => l.dataHash)).size).toBe(1);
      expect(count('SELECT COUNT(*) AS n FROM evaluations WHERE run_id = ?')).toBe(1);
      expect(count('SELECT COUNT(*) AS n FROM savings WHERE run_id = ?')).toBe(1);
    } finally {
      db.close();
    }
    // Two cores: the smoke pipeline should stay well under a few minutes.
    expect(seconds).toBeLessThan(400);
  });

  it('survives a kill during generation: resume loses and duplicates nothing', async () => {
    const home = join(work, 'home-crash');
    const dbPath = databasePath(home);
    let runId = '';
    let answeredAtKill = 0;
    const killed = await cli(
      ['pipeline', 'beethoven', '--scale', 'smoke', '--model', `local:${modelDir}`],
      home,
      (child) => {
        // Poll the store; kill the CLI (and so its engine) once a batch is stored but not all.
        const timer = setInterval(() => {
          if (!existsSync(dbPath)) return;
          try {
            const db = new Database(dbPath, { readonly: true, timeout: 1000 });
            try {
              const row = db
                .prepare('SELECT run_id, COUNT(*) AS n FROM teacher_examples GROUP BY run_id')
                .get() as { run_id: string; n: number } | undefined;
              if (row && row.n > 0 && row.n < 24) {
                runId = row.run_id;
                answeredAtKill = row.n;
                clearInterval(timer);
                child.kill('SIGKILL');
              }
            } finally {
              db.close();
            }
          } catch {
            /* the database is being created */
          }
        }, 100);
        child.on('close', () => clearInterval(timer));
      },
    );
    expect(killed.code).not.toBe(0);
    expect(runId, 'the CLI finished before it could be killed mid-generation').not.toBe('');
    expect(answeredAtKill).toBeGreaterThan(0);
    expect(answeredAtKill).toBeLessThan(24);

    const resumed = await cli(['generate', runId, '--json'], home);
    expect(resumed.code, resumed.stderr).toBe(0);
    const db = new Database(dbPath, { readonly: true });
    try {
      const rows = db.prepare('SELECT question_id FROM teacher_examples WHERE run_id = ?').all(runId) as {
        question_id: number;
      }[];
      const ids = rows.map((r) => r.question_id);
      const questions = (
        db.prepare('SELECT id FROM questions WHERE run_id = ? ORDER BY id').all(runId) as { id: number }[]
      ).map((q) => q.id);
      expect(questions).toHaveLength(24);
      expect(new Set(ids).size).toBe(ids.length); // no duplicates
      expect([...ids].sort((a, b) => a - b)).toEqual(questions); // none lost
    } finally {
      db.close();
    }
    const teacherFile = readJsonl(join(home, 'runs', runId, 'teacher_data.jsonl'));
    expect(teacherFile).toHaveLength(24);
  });

  it('trains with kd against the captured distributions, then on-policy, each as its own job', async () => {
    const home = join(work, 'home-objectives');
    const r = await cli(
      [
        'pipeline',
        'beethoven',
        '--scale',
        'smoke',
        '--model',
        `local:${modelDir}`,
        '--objective',
        'kd',
        '--json',
      ],
      home,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = jsonOut<Outcome>(r);
    expect(out.run.status).toBe('completed');
    expect(out.evaluation?.distillation?.answers).toBe(8);
    const onPolicy = await cli(
      ['train', out.run.id, '--objective', 'on-policy', '--kd-weight', '0.5', '--max-steps', '3', '--json'],
      home,
    );
    expect(onPolicy.code, onPolicy.stderr).toBe(0);
    const bad = await cli(['train', out.run.id, '--max-steps', '-1'], home);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--max-steps must be a whole number from 1 to');
    expect(bad.stderr).toContain('(got "-1")');
    const db = new Database(databasePath(home), { readonly: true });
    try {
      const jobs = db
        .prepare('SELECT id, kind, status, config FROM training_jobs WHERE run_id = ? ORDER BY created_at')
        .all(out.run.id) as { id: string; kind: string; status: string; config: string }[];
      expect(jobs.map((j) => [j.kind, j.status])).toEqual([
        ['kd', 'completed'],
        ['on-policy', 'completed'],
      ]);
      expect(JSON.parse(jobs[1]!.config)).toMatchObject({
        objective: 'on-policy',
        kdWeight: 0.5,
        maxSteps: 3,
      });
      const losses = (jobId: string): number[] =>
        (
          db
            .prepare("SELECT loss FROM step_metrics WHERE job_id = ? AND kind = 'train' ORDER BY step")
            .all(jobId) as { loss: number }[]
        ).map((m) => m.loss);
      expect(losses(jobs[0]!.id)).toHaveLength(12);
      expect(losses(jobs[1]!.id)).toHaveLength(3);
      for (const loss of [...losses(jobs[0]!.id), ...losses(jobs[1]!.id)]) {
        expect(Number.isFinite(loss)).toBe(true);
        expect(loss).toBeGreaterThanOrEqual(0); // both are KL divergences
      }
      const lineage = db
        .prepare('SELECT lineage FROM checkpoints WHERE job_id = ? ORDER BY step DESC LIMIT 1')
        .get(jobs[1]!.id) as { lineage: string };
      expect(JSON.parse(lineage.lineage).config.objective).toBe('on-policy');
      // Training again with another objective keeps the earlier job's checkpoints, each its own.
      const perJob = db
        .prepare('SELECT job_id, COUNT(*) AS n FROM checkpoints WHERE run_id = ? GROUP BY job_id')
        .all(out.run.id) as { job_id: string; n: number }[];
      expect(perJob.map((r) => r.job_id).sort()).toEqual(jobs.map((j) => j.id).sort());
    } finally {
      db.close();
    }
  });
});
