/**
 * `character pipeline --backend tinker` end to end through the real CLI, against the Tinker
 * stand-in (engine/character_dev/tinker_standin: the SDK's client interface over a tiny local
 * model; the real service cannot be reached from here). The teacher samples on "Tinker" with its
 * top-k captured, the student trains there with kd, checkpoints are registered as tinker://
 * paths with their lineage, the final adapter is pulled into the local registry, and every other
 * step (evaluation, savings, report, chat) runs locally on it as on a local run. The API key
 * never leaves the settings file.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPELINE_STEPS } from '../../src-shared/contract';
import { databasePath } from '../../src-main/core/paths';

const ROOT = resolve(__dirname, '..', '..');
const PYTHON = join(ROOT, 'engine', '.venv', 'bin', 'python');
const CLI = join(ROOT, 'bin', 'character.mjs');
const KEY = 'tk-integration-secret-4711';
const NAME = 'tiny/chat';

let work: string;
let home: string;
let env: NodeJS.ProcessEnv;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

function json<T>(r: CliResult): T {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** Every file under dir, for the check that the key was written nowhere else. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cs-tinker-'));
  const modelDir = join(work, 'tiny-model');
  const built = spawnSync(PYTHON, ['-m', 'character_dev.tiny', modelDir], {
    cwd: join(ROOT, 'engine'),
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`tiny model build failed: ${built.stderr}`);
  home = join(work, 'home');
  mkdirSync(home, { recursive: true });
  // The CLI keeps the key in settings.json, readable only by the user (as the OpenAI key).
  writeFileSync(join(home, 'settings.json'), JSON.stringify({ tinker: { apiKey: KEY } }), { mode: 0o600 });
  env = {
    ...process.env,
    CHARACTER_STUDIO_HOME: home,
    CI: '1',
    CHARACTER_ENGINE_THREADS: process.env.CHARACTER_ENGINE_THREADS ?? '1',
    CHARACTER_ENGINE_TINKER_CLIENT: 'character_dev.tinker_standin:ServiceClient',
    TINKER_STANDIN_ROOT: join(work, 'tinker-server'),
    TINKER_STANDIN_MODELS: JSON.stringify({ [NAME]: modelDir }),
    // Only this key is accepted: the settings' key must reach the engine.
    TINKER_STANDIN_API_KEY: KEY,
  };
  delete env.TINKER_API_KEY;
  env.MODEL_DIR = modelDir;
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Outcome {
  run: { id: string; status: string; dir: string; completedSteps: string[] };
}
interface Listing {
  tinker_path: string;
  type: string;
  registeredId: string | null;
  pulledId: string | null;
  metadata: Record<string, string>;
}

// The SDK needs Python 3.11+; setup.sh skips it on older engines (and says so).
const HAS_SDK = spawnSync(PYTHON, ['-c', 'import tinker'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!HAS_SDK)('character pipeline --backend tinker (stand-in service, tiny model)', () => {
  it('trains on Tinker, registers tinker:// checkpoints, pulls the adapter and runs every other step locally', async () => {
    const r = await cli([
      'pipeline',
      'beethoven',
      '--scale',
      'smoke',
      '--model',
      `local:${env.MODEL_DIR}`,
      '--backend',
      'tinker',
      '--tinker-model',
      NAME,
      '--objective',
      'kd',
      '--json',
    ]);
    const out = json<Outcome>(r);
    expect(out.run.status).toBe('completed');
    expect(out.run.completedSteps).toEqual([...PIPELINE_STEPS]);
    const dir = out.run.dir;
    for (const f of ['teacher_data.jsonl', 'train.jsonl', 'evaluation_results.json', 'RESULTS_REPORT.md'])
      expect(existsSync(join(dir, f)), f).toBe(true);
    // kd on Tinker: every training answer has the teacher's top-k from Tinker's sampler (k <= 20).
    const train = readFileSync(join(dir, 'train.jsonl'), 'utf8').trim().split('\n');
    for (const line of train)
      expect(typeof (JSON.parse(line) as { teacher_topk?: string }).teacher_topk).toBe('string');

    const db = new Database(databasePath(home), { readonly: true });
    let localFinal: { id: string; path: string; step: number; lineage: string; metrics: string };
    let remote: { id: string; path: string; step: number }[];
    try {
      const config = JSON.parse(
        (db.prepare('SELECT config FROM runs WHERE id = ?').get(out.run.id) as { config: string }).config,
      ) as Record<string, unknown>;
      expect(config.backend).toBe('tinker');
      expect(config.teacherProvider).toBe('tinker');
      expect(config.tinker).toEqual({ baseModel: NAME, teacherModel: NAME });
      const providers = db
        .prepare('SELECT DISTINCT provider, model FROM teacher_examples WHERE run_id = ?')
        .all(out.run.id);
      expect(providers).toEqual([{ provider: 'tinker', model: `tinker:${NAME}` }]);
      const cps = db
        .prepare(
          'SELECT id, path, step, lineage, metrics FROM checkpoints WHERE run_id = ? ORDER BY step, created_at',
        )
        .all(out.run.id) as { id: string; path: string; step: number; lineage: string; metrics: string }[];
      remote = cps.filter((c) => c.path.startsWith('tinker://'));
      expect(remote.map((c) => c.step)).toEqual([6, 12]);
      for (const c of remote) expect(c.path).toMatch(/^tinker:\/\/[^/]+\/weights\/step-0000(06|12)$/);
      const locals = cps.filter((c) => !c.path.startsWith('tinker://'));
      expect(locals).toHaveLength(1);
      localFinal = locals[0]!;
      const lineage = JSON.parse(localFinal.lineage) as {
        pulledFrom?: string;
        dataHash: string;
        personaId: string;
      };
      expect(lineage.pulledFrom).toBe(remote[1]!.path);
      expect(lineage.personaId).toBe('beethoven');
      expect(lineage.dataHash).toMatch(/^[0-9a-f]{64}$/);
      expect(localFinal.step).toBe(12);
      // the train loss under its own name (src-shared/losses.ts): trainNll for sft, trainKdLoss for kd
      expect(Object.keys(JSON.parse(localFinal.metrics) as object)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^train(Nll|KdLoss)$/)]),
      );
      // The pulled adapter sits in the job's folder; evaluation ran on it.
      const abs = resolve(home, localFinal.path);
      expect(abs).toMatch(/\/jobs\/[^/]+\/adapter$/);
      for (const f of ['adapter_config.json', 'adapter_model.safetensors', 'tinker.json'])
        expect(existsSync(join(abs, f)), f).toBe(true);
      const evaluation = db
        .prepare('SELECT checkpoint_id FROM evaluations WHERE run_id = ?')
        .get(out.run.id) as {
        checkpoint_id: string;
      };
      expect(evaluation.checkpoint_id).toBe(localFinal.id);
      const metrics = db
        .prepare(
          `SELECT COUNT(*) AS n FROM step_metrics m JOIN training_jobs j ON j.id = m.job_id WHERE j.run_id = ? AND m.kind = 'train'`,
        )
        .get(out.run.id) as { n: number };
      expect(metrics.n).toBe(12);
    } finally {
      db.close();
    }

    // The service's checkpoints, marked with what they became here.
    const listed = json<{ checkpoints: Listing[] }>(await cli(['checkpoint', 'list', '--tinker', '--json']));
    const step6 = listed.checkpoints.find((c) => c.tinker_path === remote[0]!.path);
    const step12 = listed.checkpoints.find((c) => c.tinker_path === remote[1]!.path);
    expect(step6).toMatchObject({ type: 'training', registeredId: remote[0]!.id, pulledId: null });
    expect(step6!.metadata).toMatchObject({ kind: 'kd', step: '6' });
    expect(step12).toMatchObject({ registeredId: remote[1]!.id, pulledId: localFinal.id });

    // Pull the step-6 checkpoint into the registry; chat answers from it with no system prompt.
    const pulled = json<{ id: string; path: string; step: number; lineage: { pulledFrom: string } }>(
      await cli(['checkpoint', 'pull', remote[0]!.id, '--json']),
    );
    expect(pulled.step).toBe(6);
    expect(pulled.lineage.pulledFrom).toBe(remote[0]!.path);
    expect(existsSync(join(pulled.path, 'adapter_model.safetensors'))).toBe(true);
    const again = json<{ id: string }>(await cli(['checkpoint', 'pull', remote[0]!.path, '--json']));
    expect(again.id).toBe(pulled.id);
    const chat = await cli(['checkpoint', 'use', pulled.id, 'Who are you?', '--json']);
    expect(chat.code, chat.stderr).toBe(0);

    // The key is in settings.json and nowhere else the app wrote (database, logs, run folders).
    const leaks = files(home).filter((f) => !f.endsWith('settings.json') && readFileSync(f).includes(KEY));
    expect(leaks).toEqual([]);
  });

  it('refuses a key the service does not accept, with a message that does not contain it', async () => {
    const bad = join(work, 'home-bad-key');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'settings.json'), JSON.stringify({ tinker: { apiKey: 'wrong-key-0000' } }), {
      mode: 0o600,
    });
    const saved = env;
    env = { ...env, CHARACTER_STUDIO_HOME: bad };
    try {
      const r = await cli(['checkpoint', 'list', '--tinker']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Tinker refused the API key/);
      expect(r.stderr + r.stdout).not.toContain('wrong-key-0000');
    } finally {
      env = saved;
    }
  });
});
