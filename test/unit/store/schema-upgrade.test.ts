/**
 * Opening a database written by an earlier schema. The fixture is the studio.sqlite of a real
 * `npm run demo -- --no-serve` made with schema 1 (2026-12-01, before run progress moved out of
 * runs.config): one completed mini run with 128 teacher answers, a training job, 42 metrics, two
 * checkpoints, an evaluation and a savings row.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PIPELINE_STEPS } from '../../../src-shared/contract';
import { ConfigError } from '../../../src-main/core/errors';
import { LATEST_SCHEMA_VERSION, openStore, schemaVersion } from '../../../src-main/store';

const FIXTURE = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'fixtures',
  'studio-schema-1.sqlite',
);
const RUN = '20261201-020254-beethoven-mini-loo1';

let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'schema-upgrade-'));
  path = join(dir, 'studio.sqlite');
  copyFileSync(FIXTURE, path);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('a schema-1 database', () => {
  it('opens at the latest schema with its runs, progress and checkpoints intact', () => {
    const raw = new Database(path);
    expect(schemaVersion(raw)).toBe(1);
    // A run written by an older code path: progress inside config, most fields missing.
    raw
      .prepare(
        `INSERT INTO runs (id, persona_id, persona_version, scale, status, step, config, error, timings, dir, created_at, updated_at)
         VALUES ('run-legacy', 'beethoven', 1, 'smoke', 'failed', 'train', '{"completedSteps":["questions","generate","bogus"]}', 'boom', '{"generate":3}', '/x', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')`,
      )
      .run();
    raw.close();

    const store = openStore(path);
    try {
      expect(LATEST_SCHEMA_VERSION).toBeGreaterThan(1);
      const run = store.runs.require(RUN);
      expect(run.status).toBe('completed');
      expect(run.completedSteps).toEqual([...PIPELINE_STEPS]);
      expect(run.timings.train).toBeCloseTo(336.3);
      expect(run.config.recipe).toBe('distill');
      expect(run.config.personaName).toBe('Ludwig van Beethoven');
      expect(run.config.scaleConfig.training.maxSteps).toBe(40);
      expect(run.config).not.toHaveProperty('completedSteps');
      // Schema 3: what those runs did, recorded: SFT, no captured teacher distributions.
      expect(run.config.scaleConfig.training.objective).toBe('sft');
      expect(run.config.scaleConfig.training.kdWeight).toBe(0);
      expect(run.config.scaleConfig.generation.topK).toBe(0);

      const legacy = store.runs.require('run-legacy');
      expect(legacy.completedSteps).toEqual(['questions', 'generate']);
      expect(legacy.status).toBe('failed');
      expect(legacy.error).toBe('boom');
      expect(legacy.config.scaleConfig.scale).toBe('smoke');
      expect(legacy.config.studentModel).toEqual({ source: 'default' });

      const checkpoints = store.checkpoints.list({ runId: RUN });
      expect(checkpoints.map((c) => c.step).sort((a, b) => a - b)).toEqual([20, 40]);
      expect(checkpoints.every((c) => c.lineage.dataHash.length > 0)).toBe(true);
      expect(checkpoints.every((c) => c.lineage.config.objective === 'sft')).toBe(true);
      const job = store.jobs.latestForRun(RUN);
      expect(job?.status).toBe('completed');
      expect(job?.config.objective).toBe('sft');
      // The jobs table was rebuilt (schema 3) without cascading its metrics away.
      expect(store.metrics.sinceForRun(RUN, -1)).toHaveLength(42);
      // The rebuilt jobs table takes the new kinds.
      const kd = store.jobs.create({
        runId: RUN,
        kind: 'kd',
        config: { ...job!.config, objective: 'kd' },
        totalSteps: 1,
        status: 'pending',
      });
      expect(store.jobs.latestForRun(RUN, 'kd')?.id).toBe(kd.id);
      expect(store.examples.countByRun(RUN)).toBe(128);
      expect(store.evaluations.latest(RUN)?.summary.n).toBe(24);
      expect(store.savings.latest(RUN)?.promptTokensTeacher).toBe(845);
    } finally {
      store.close();
    }
  });

  it('stores run and checkpoint folders relative to the data folder it is opened in (schema 5)', () => {
    // The fixture was written in /tmp/base-home: its paths point there, not at this copy.
    const store = openStore(path);
    try {
      expect(store.runs.require(RUN).dir).toBe(join(dir, 'runs', RUN));
      const paths = store.checkpoints.list({ runId: RUN }).map((c) => c.path);
      expect(paths.sort()).toEqual([
        join(dir, 'runs', RUN, 'checkpoints', 'step-000020'),
        join(dir, 'runs', RUN, 'checkpoints', 'step-000040'),
      ]);
      const raw = store.db.prepare<[], { path: string }>('SELECT path FROM checkpoints').all();
      expect(raw.map((r) => r.path).every((p) => p.startsWith(`runs/${RUN}/`))).toBe(true);
    } finally {
      store.close();
    }
  });

  it('names the run and the field when a stored configuration is malformed', () => {
    const store = openStore(path);
    store.close();
    const raw = new Database(path);
    const row = raw.prepare<[string], { config: string }>('SELECT config FROM runs WHERE id = ?').get(RUN)!;
    const config = JSON.parse(row.config) as { scaleConfig: { training: Record<string, unknown> } };
    config.scaleConfig.training.learningRate = 'fast';
    raw.prepare('UPDATE runs SET config = ? WHERE id = ?').run(JSON.stringify(config), RUN);
    raw.close();

    const reopened = openStore(path);
    try {
      const error = (() => {
        try {
          reopened.runs.require(RUN);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain(RUN);
      expect((error as ConfigError).field).toBe('scaleConfig.training.learningRate');
      expect((error as ConfigError).message).toMatch(/must be a number, not the text "fast"/);
      // Listings that do not need the configuration still work.
      expect(reopened.runs.summaries().map((r) => r.id)).toContain(RUN);
    } finally {
      reopened.close();
    }
  });
});
