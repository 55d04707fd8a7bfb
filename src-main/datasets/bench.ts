/**
 * A bench-able helper: n synthetic teacher examples written to a fresh SQLite database in one
 * transaction, then audited, split and exported to JSONL. Times are measured here, in ms.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../questions/prng';
import { openStore } from '../store';
import { auditRun } from './audit';
import { exportRunData } from './files';
import { splitRun } from './split';

export interface ExamplesBenchResult {
  n: number;
  insertMs: number;
  auditMs: number;
  splitMs: number;
  exportMs: number;
  totalMs: number;
  bytes: number;
}

const BENCH_WORDS = (
  'music symphony Vienna deaf Haydn piano sonata Bonn Freude God art storm fate joy motif quartet ' +
  'I you we the a of and to in my your with from but not never always walk forest night morning ' +
  'heart soul friend brother nephew prince archduke publisher orchestra chorus theme key minor ' +
  'major fugue counterpoint silence thunder bird river light dark struggle triumph hope despair ' +
  'write wrote hear heard play played compose composed love loved think thought feel felt'
).split(' ');

const CATEGORIES = ['biographical', 'composition', 'philosophy', 'historical_context', 'music_theory'];

export function writeExamplesBench(n = 5000, dir?: string): ExamplesBenchResult {
  const root = dir ?? mkdtempSync(join(tmpdir(), 'bench-examples-'));
  const store = openStore(join(root, 'bench.db'));
  try {
    const run = store.runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'paper', dir: root });
    store.questions.insertMany(
      run.id,
      Array.from({ length: n }, (_, i) => ({
        id: i + 1,
        category: CATEGORIES[i % CATEGORIES.length] as string,
        text: `Question ${i + 1}: what did you feel when writing piece number ${i}?`,
        heldout: false,
        template: 'bench',
      })),
    );
    // Synthetic answers of 40-120 words drawn from a small vocabulary by a seeded PRNG: as
    // varied as real answers, so the audit does real work and keeps most of them.
    const rand = mulberry32(n);
    const answer = (): string =>
      Array.from(
        { length: 40 + Math.floor(rand() * 80) },
        () => BENCH_WORDS[Math.floor(rand() * BENCH_WORDS.length)],
      ).join(' ');
    const rows = Array.from({ length: n }, (_, i) => ({
      questionId: i + 1,
      answer: answer(),
      promptTokens: 640,
      completionTokens: 60,
      provider: 'bench',
      model: 'synthetic',
      latencyMs: 0,
    }));
    let t = performance.now();
    const t0 = t;
    store.examples.insertMany(run.id, rows);
    const insertMs = performance.now() - t;
    t = performance.now();
    auditRun(store, run.id, { keywords: ['music', 'symphony', 'Vienna'], minWords: 5 });
    const auditMs = performance.now() - t;
    t = performance.now();
    splitRun(store, run.id, { seed: 1 });
    const splitMs = performance.now() - t;
    t = performance.now();
    const files = exportRunData(store, run.id, root);
    const exportMs = performance.now() - t;
    const bytes = [files.teacherPath, files.trainPath, files.valPath].reduce(
      (a, p) => a + statSync(p).size,
      0,
    );
    return { n, insertMs, auditMs, splitMs, exportMs, totalMs: performance.now() - t0, bytes };
  } finally {
    store.close();
    if (!dir) rmSync(root, { recursive: true, force: true });
  }
}
