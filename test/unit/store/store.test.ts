import { mkdtempSync, rmSync } from 'node:fs';
import { defaultRunConfig } from '../../../src-main/core/run-config';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { TrainingConfig } from '../../../src-shared/contract';
import {
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  migrate,
  openStore,
  schemaVersion,
  StoreError,
  type Store,
} from '../../../src-main/store';

const CONFIG: TrainingConfig = {
  baseModel: 'default',
  objective: 'sft',
  kdWeight: 0,
  loraR: 8,
  loraAlpha: 16,
  loraDropout: 0.05,
  targetModules: [],
  learningRate: 1e-4,
  warmupSteps: 0,
  schedule: 'linear',
  batchSize: 2,
  gradAccum: 1,
  maxSteps: 10,
  maxLength: 256,
  evalEvery: 5,
  saveEvery: 5,
  seed: 1,
};

function seedRun(store: Store, n = 3): string {
  const run = store.runs.create({
    personaId: 'beethoven',
    personaVersion: 1,
    scale: 'smoke',
    dir: '/tmp/run',
  });
  store.questions.insertMany(
    run.id,
    Array.from({ length: n }, (_, i) => ({
      id: i + 1,
      category: i % 2 ? 'composition' : 'biographical',
      text: `Question ${i + 1}?`,
      heldout: false,
      template: 't',
    })),
  );
  return run.id;
}

const tmpDirs: string[] = [];
afterEach(() => {
  for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('migrations', () => {
  it('applies each migration on :memory: and bumps user_version step by step', () => {
    const db = new Database(':memory:');
    expect(schemaVersion(db)).toBe(0);
    for (const m of MIGRATIONS) {
      migrate(
        db,
        MIGRATIONS.filter((x) => x.version <= m.version),
      );
      expect(schemaVersion(db)).toBe(m.version);
    }
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((r) => r.name);
    for (const t of [
      'personas',
      'runs',
      'questions',
      'teacher_examples',
      'checkpoints',
      'review_items',
      'good_pairs',
    ]) {
      expect(tables).toContain(t);
    }
    db.close();
  });

  it('is idempotent: a second migrate changes nothing', () => {
    const db = new Database(':memory:');
    migrate(db);
    expect(migrate(db)).toEqual({ from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION });
    db.close();
  });

  it('rolls back a failing migration and leaves user_version unchanged', () => {
    const db = new Database(':memory:');
    const broken = [
      ...MIGRATIONS,
      {
        version: LATEST_SCHEMA_VERSION + 1,
        name: 'broken',
        up: (d: Database.Database) => {
          d.exec('CREATE TABLE half_done (x INTEGER)');
          d.exec('THIS IS NOT SQL');
        },
      },
    ];
    expect(() => migrate(db, broken)).toThrow(StoreError);
    expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").get()).toBeUndefined();
    db.close();
  });

  it('refuses a database written by a newer version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'store-'));
    tmpDirs.push(dir);
    const path = join(dir, 'studio.db');
    openStore(path).close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 5}`);
    raw.close();
    let caught: unknown;
    try {
      openStore(path);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(StoreError);
    expect((caught as StoreError).message).toMatch(/newer/);
    expect((caught as StoreError).detail).toMatchObject({
      found: LATEST_SCHEMA_VERSION + 5,
      known: LATEST_SCHEMA_VERSION,
    });
  });

  it('opens a file database in WAL mode with foreign keys on', () => {
    const dir = mkdtempSync(join(tmpdir(), 'store-'));
    tmpDirs.push(dir);
    const store = openStore(join(dir, 'studio.db'));
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
    store.close();
  });
});

describe('repositories', () => {
  it('versions personas only when the text changes', () => {
    const s = openStore(':memory:');
    const a = s.personas.save({ id: 'p', name: 'P', format: 'text', source: 'one' });
    const b = s.personas.save({ id: 'p', name: 'P', format: 'text', source: 'one' });
    const c = s.personas.save({ id: 'p', name: 'P', format: 'text', source: 'two' });
    expect([a.record.version, b.record.version, c.record.version]).toEqual([1, 1, 2]);
    expect([a.changed, b.changed, c.changed]).toEqual([true, false, true]);
    expect(s.personas.latest('p')?.source).toBe('two');
    expect(s.personas.get('p', 1)?.source).toBe('one');
    expect(s.personas.list()).toHaveLength(1);
    expect(s.personas.history('p').map((r) => r.version)).toEqual([1, 2]);
  });

  it('creates, updates and lists runs', () => {
    const s = openStore(':memory:');
    const r = s.runs.create({ personaId: 'beethoven', personaVersion: 2, scale: 'mini' });
    expect(r.status).toBe('pending');
    const u = s.runs.update(r.id, { status: 'running', step: 'generate', timings: { questions: 1.5 } });
    expect(u.status).toBe('running');
    expect(u.step).toBe('generate');
    expect(u.timings).toEqual({ questions: 1.5 });
    expect(u.config).toEqual(defaultRunConfig('mini', 'beethoven'));
    expect(u.completedSteps).toEqual([]);
    expect(s.runs.list().map((x) => x.id)).toEqual([r.id]);
    expect(() => s.runs.update('nope', { status: 'failed' })).toThrow(/not found/);
  });

  it('never duplicates a teacher example when generation resumes', () => {
    const s = openStore(':memory:');
    const runId = seedRun(s, 3);
    const ex = (
      q: number,
    ): {
      questionId: number;
      answer: string;
      promptTokens: number;
      completionTokens: number;
      provider: string;
      model: string;
      latencyMs: number;
    } => ({
      questionId: q,
      answer: `answer ${q}`,
      promptTokens: 500,
      completionTokens: 40,
      provider: 'local',
      model: 'tiny',
      latencyMs: 12,
    });
    expect(s.examples.insertMany(runId, [ex(1), ex(2)])).toBe(2);
    expect(s.examples.insertMany(runId, [ex(2), ex(3)])).toBe(1);
    expect(s.examples.countByRun(runId)).toBe(3);
    expect([...s.examples.existingQuestionIds(runId)].sort()).toEqual([1, 2, 3]);
    expect(s.examples.categories(runId)).toEqual(['biographical', 'composition']);
  });

  it('filters examples by audit flag, kept state, category and split', () => {
    const s = openStore(':memory:');
    const runId = seedRun(s, 4);
    s.examples.insertMany(
      runId,
      [1, 2, 3, 4].map((q) => ({
        questionId: q,
        answer: `a${q}`,
        promptTokens: 1,
        completionTokens: 1,
        provider: '',
        model: '',
        latencyMs: 0,
      })),
    );
    const rows = s.examples.listByRun(runId);
    const summary = {
      total: 4,
      kept: 3,
      flagged: { too_short: 1 },
      length: { mean: 1, median: 1, std: 0, min: 1, max: 1 },
      keywordPresence: 0,
      exactDuplicates: 0,
      nearDuplicates: 0,
      categories: { biographical: 2, composition: 2 },
    };
    s.audit.save(
      runId,
      rows.map((r, i) => ({ exampleId: r.id, flags: i === 0 ? ['too_short'] : [], kept: i !== 0 })),
      summary,
    );
    expect(s.audit.summary(runId)).toEqual(summary);
    expect(s.examples.listByRun(runId, { flag: 'too_short' }).map((r) => r.questionId)).toEqual([1]);
    expect(s.examples.countByRun(runId, { flag: 'kept' })).toBe(3);
    expect(s.examples.flags(runId)).toEqual(['too_short']);
    expect(s.examples.countByRun(runId, { category: 'composition' })).toBe(2);
    s.splits.save(
      runId,
      rows.slice(1).map((r, i) => ({ exampleId: r.id, split: i === 0 ? 'val' : 'train' })),
    );
    expect(s.splits.counts(runId)).toEqual({ train: 2, val: 1 });
    expect(s.examples.listByRun(runId, { split: 'val' })[0]?.split).toBe('val');
    expect(s.examples.listByRun(runId, { offset: 1, limit: 2 }).map((r) => r.questionId)).toEqual([2, 3]);
  });

  it('stores jobs and metrics; a re-reported step replaces the old point', () => {
    const s = openStore(':memory:');
    const runId = seedRun(s);
    const job = s.jobs.create({ runId, kind: 'sft', config: CONFIG, totalSteps: 10 });
    s.metrics.append(job.id, [
      { step: 1, kind: 'train', loss: 3.0, lr: 1e-4 },
      { step: 2, kind: 'train', loss: 2.5, gradNorm: 1.2, extra: { epoch: 0.2 } },
    ]);
    s.metrics.append(job.id, [{ step: 2, kind: 'train', loss: 2.4 }]);
    expect(s.metrics.since(job.id, 0).map((p) => p.loss)).toEqual([3.0, 2.4]);
    expect(s.metrics.sinceForRun(runId, 1).map((p) => p.step)).toEqual([2]);
    expect(s.metrics.last(job.id, 'train')?.loss).toBe(2.4);
    expect(s.jobs.update(job.id, { status: 'running', step: 2 }).step).toBe(2);
    expect(s.jobs.latestForRun(runId)?.config.loraR).toBe(8);
  });

  it('stores checkpoints, evaluations, savings, reviews, chats, good pairs', () => {
    const s = openStore(':memory:');
    const runId = seedRun(s);
    const c = s.checkpoints.insert({
      runId,
      jobId: null,
      step: 5,
      path: '/tmp/ckpt',
      metrics: { valLoss: 1.5 },
      lineage: { personaId: 'beethoven', personaVersion: 1, dataHash: 'abc', config: CONFIG },
    });
    expect(c.state).toBe('candidate');
    expect(s.checkpoints.list({ runId, state: 'candidate' })).toHaveLength(1);
    expect(s.checkpoints.update(c.id, { state: 'promoted' }).state).toBe('promoted');

    const evalId = s.evaluations.save({
      runId,
      checkpointId: c.id,
      summary: { runId, n: 1 } as never,
      items: [
        {
          questionId: 1,
          category: 'biographical',
          question: 'Q',
          answers: { student: 's', teacher: 't', base: 'b' },
          inCharacter: { student: 1, teacher: 1, base: 0 },
          similarityToTeacher: {
            student: { difflib: 0.5, cosine: 0.8 },
            base: { difflib: 0.1, cosine: 0.2 },
          },
        },
      ],
    });
    expect(s.evaluations.latest(runId)?.id).toBe(evalId);
    expect(s.evaluations.get(evalId)?.items[0]?.similarityToTeacher.student.cosine).toBe(0.8);

    const sheet = s.reviews.createSheet({
      runId,
      evaluationId: evalId,
      blind: true,
      items: [{ category: 'biographical', question: 'Q', answer: 'A', source: 'student' }],
    });
    const item = s.reviews.items(sheet.id)[0];
    expect(item?.position).toBe(0);
    const rated = s.reviews.updateItem(item!.id, { ratings: { speechPatterns: 4 }, note: 'good' });
    expect(rated.ratings.speechPatterns).toBe(4);
    expect(rated.note).toBe('good');

    const chat = s.chats.create({ checkpointId: c.id, withTeacher: true });
    s.chats.addTurn(chat.id, 'student', { role: 'user', content: 'hi' });
    s.chats.addTurn(chat.id, 'student', { role: 'assistant', content: 'Guten Tag!', latencyMs: 30 });
    s.chats.addTurn(chat.id, 'teacher', { role: 'assistant', content: 'Ja!' });
    expect(s.chats.get(chat.id)?.turns.map((t) => t.content)).toEqual(['hi', 'Guten Tag!']);
    expect(s.chats.turns(chat.id, 'teacher')).toHaveLength(1);

    expect(
      s.goodPairs.add([
        { prompt: 'p', answer: 'a', score: 0.8 },
        { prompt: 'p', answer: 'a', score: 0.8 },
      ]),
    ).toBe(1);
    const gp = s.goodPairs.list()[0]!;
    s.goodPairs.setApproved(gp.id, true);
    expect(s.goodPairs.list({ approved: true, minScore: 0.7 })).toHaveLength(1);

    s.kv.set('active', c.id);
    expect(s.kv.get('active')).toBe(c.id);
    s.kv.set('active', null);
    expect(s.kv.get('active')).toBeNull();
  });

  it('deleting a run cascades to its data', () => {
    const s = openStore(':memory:');
    const runId = seedRun(s, 2);
    s.examples.insertMany(runId, [
      {
        questionId: 1,
        answer: 'a',
        promptTokens: 1,
        completionTokens: 1,
        provider: '',
        model: '',
        latencyMs: 0,
      },
    ]);
    s.runs.delete(runId);
    expect(s.examples.countByRun(runId)).toBe(0);
    expect(s.questions.countByRun(runId)).toBe(0);
  });

  it('writes 5000 teacher examples in one transaction', () => {
    const s = openStore(':memory:');
    const runId = seedRun(s, 5000);
    const rows = Array.from({ length: 5000 }, (_, i) => ({
      questionId: i + 1,
      answer: `Answer number ${i} about music and Vienna.`,
      promptTokens: 600,
      completionTokens: 80,
      provider: 'local',
      model: 'tiny',
      latencyMs: 10,
    }));
    const t0 = performance.now();
    expect(s.examples.insertMany(runId, rows)).toBe(5000);
    const ms = performance.now() - t0;
    expect(s.examples.countByRun(runId)).toBe(5000);
    // Generous bound for a loaded 2-core machine; the bench reports the real figure.
    expect(ms).toBeLessThan(5000);
  });
});
