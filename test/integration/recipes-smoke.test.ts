/**
 * The Open Character Training recipe end to end through the CLI on a tiny random local model:
 * DPO (chosen = teacher with the constitution, rejected = base without) then introspection SFT
 * from the DPO adapter. Mechanics only: the tiny model's text is meaningless.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databasePath } from '../../src-main/core/paths';

const ROOT = resolve(__dirname, '..', '..');
let work: string;
let modelDir: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cs-recipes-'));
  modelDir = join(work, 'tiny-model');
  const built = spawnSync(
    join(ROOT, 'engine', '.venv', 'bin', 'python'),
    ['-m', 'character_dev.tiny', modelDir],
    {
      cwd: join(ROOT, 'engine'),
      encoding: 'utf8',
    },
  );
  if (built.status !== 0) throw new Error(`tiny model build failed: ${built.stderr}`);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('character pipeline --recipe character (tiny random model)', () => {
  it('trains DPO then introspection SFT from the DPO adapter, and evaluates the result', () => {
    const home = join(work, 'home');
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, 'bin', 'character.mjs'),
        'pipeline',
        'beethoven',
        '--scale',
        'smoke',
        '--recipe',
        'character',
        '--model',
        `local:${modelDir}`,
        '--json',
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: {
          ...process.env,
          CHARACTER_STUDIO_HOME: home,
          CI: '1',
          CHARACTER_ENGINE_THREADS: process.env.CHARACTER_ENGINE_THREADS ?? '1',
        },
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { run: { id: string; dir: string; status: string } };
    expect(out.run.status).toBe('completed');
    const dir = out.run.dir;
    const rows = (f: string): Record<string, unknown>[] =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const dpo = rows('dpo_train.jsonl');
    const train = rows('train.jsonl');
    expect(dpo).toHaveLength(train.length);
    const teacher = new Map(
      rows('teacher_data.jsonl').map((t) => [t.question as string, t.answer as string]),
    );
    for (const p of dpo) {
      const prompt = p.prompt as { role: string; content: string }[];
      expect(prompt.map((m) => m.role)).toEqual(['user']);
      expect(p.chosen).toBe(teacher.get(prompt[0]!.content)); // chosen = the teacher with the constitution
      expect(typeof p.rejected).toBe('string');
      // The default kd anchor: DPO also learns the teacher's distributions of the chosen answer.
      expect(typeof p.teacher_topk).toBe('string');
    }
    // Written by the teacher with its top-k captured (the default anchor), in a folder of its own.
    const reflections = rows('introspection-teacher/introspection.jsonl');
    expect(reflections).toHaveLength(10);
    for (const x of reflections) expect(typeof x.topk).toBe('string');
    const db = new Database(databasePath(home), { readonly: true });
    try {
      const jobs = db
        .prepare('SELECT id, kind, status FROM training_jobs WHERE run_id = ? ORDER BY created_at')
        .all(out.run.id) as { id: string; kind: string; status: string }[];
      expect(jobs.map(({ kind, status }) => ({ kind, status }))).toEqual([
        { kind: 'dpo', status: 'completed' },
        { kind: 'sft', status: 'completed' },
      ]);
      // Each job trains into its own folder: the SFT stage never overwrites DPO's checkpoints.
      const [dpoJob, sftJob] = jobs;
      const ckpt = (job: string, step: string): string => join(dir, 'jobs', job, 'checkpoints', step);
      expect(existsSync(join(ckpt(dpoJob!.id, 'step-000006'), 'adapter_model.safetensors'))).toBe(true);
      expect(existsSync(join(ckpt(sftJob!.id, 'step-000012'), 'adapter_model.safetensors'))).toBe(true);
      const evals = db.prepare('SELECT checkpoint_id FROM evaluations WHERE run_id = ?').all(out.run.id) as {
        checkpoint_id: string;
      }[];
      expect(evals).toHaveLength(1);
      const cp = db.prepare('SELECT path FROM checkpoints WHERE id = ?').get(evals[0]!.checkpoint_id) as {
        path: string;
      };
      // evaluated: the SFT stage's final adapter
      // (stored relative to the data folder, schema 5)
      expect(resolve(home, cp.path)).toBe(join(dir, 'jobs', jobs[1]!.id, 'checkpoints', 'step-000012'));
    } finally {
      db.close();
    }
  });
});
