import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { EvaluationSummary, PairwiseItem } from '../../../src-shared/contract';
import { parseCsv } from '../../../src-main/datasets';
import { bootstrap } from '../../../src-main/evaluation/intervals';
import { refreshReviewSection, renderResultsReport } from '../../../src-main/reports';
import {
  choosePair,
  createPairwiseSheet,
  exportPairwise,
  getPairwiseSheet,
  listPairwiseSheets,
  pairwiseSummary,
  pickPairs,
  preferenceShare,
  ReviewError,
  studentScore,
} from '../../../src-main/review';
import {
  MIGRATIONS,
  migrate,
  openStore,
  schemaVersion,
  type EvaluationItemRecord,
  type Store,
} from '../../../src-main/store';

const dir = mkdtempSync(join(tmpdir(), 'pairwise-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function evalItems(n: number): EvaluationItemRecord[] {
  return [...Array(n).keys()].map((i) => ({
    questionId: i + 1,
    category: ['biographical', 'composition', 'philosophy'][i % 3] as string,
    question: `question ${i + 1}?`,
    answers: {
      student: `student answer ${i + 1}`,
      teacher: `teacher answer ${i + 1}`,
      base: `base ${i + 1}`,
    },
    inCharacter: { student: 1, teacher: 1, base: 0 },
    similarityToTeacher: { student: { difflib: 0.5, cosine: 0.5 }, base: { difflib: 0.1, cosine: 0.1 } },
  }));
}

function seedRun(store: Store, items = evalItems(60), runDir = dir): string {
  const run = store.runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'smoke', dir: runDir });
  store.evaluations.save({
    runId: run.id,
    checkpointId: null,
    summary: { runId: run.id } as EvaluationSummary,
    items,
  });
  return run.id;
}

/** The choice that makes the student win (true), lose (false) or tie (null) on this pair. */
function pick(item: PairwiseItem, studentWins: boolean | null, store: Store): PairwiseItem {
  if (studentWins === null) return choosePair(store, item.id, 'tie');
  const stored = store.pairwise.item(item.id);
  const studentSide = stored.sourceA === 'student' ? 'a' : 'b';
  const other = studentSide === 'a' ? 'b' : 'a';
  return choosePair(store, item.id, studentWins ? studentSide : other);
}

describe('migration 7: pairwise review tables', () => {
  it('is the latest migration and creates pairwise_sheets and pairwise_items on :memory:', () => {
    const db = new Database(':memory:');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 6),
    );
    expect(schemaVersion(db)).toBe(6);
    migrate(db);
    expect(schemaVersion(db)).toBe(7);
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['pairwise_sheets', 'pairwise_items']));
    db.close();
  });

  it('refuses a pair whose two answers come from the same model, and an unknown choice', () => {
    const store = openStore(':memory:');
    const runId = seedRun(store);
    const same = { questionId: 1, category: 'c', question: 'q', answerA: 'x', answerB: 'y' };
    expect(() =>
      store.pairwise.createSheet({
        runId,
        evaluationId: null,
        seed: 1,
        items: [{ ...same, sourceA: 'student', sourceB: 'student' }],
      }),
    ).toThrow(/CHECK/);
    expect(store.pairwise.listSheets(runId)).toEqual([]); // the transaction rolled the sheet back
    const sheet = createPairwiseSheet(store, { runId, seed: 1, pairs: 2 });
    expect(() =>
      store.db.prepare("UPDATE pairwise_items SET choice = 'c' WHERE id = ?").run(sheet.items[0]!.id),
    ).toThrow(/CHECK/);
    store.close();
  });
});

describe('pairwise repository', () => {
  it('stores a sheet with its pairs, saves and clears choices, counts judged pairs and survives reopening', () => {
    const path = join(dir, 'pairwise.sqlite');
    let store = openStore(path);
    const runId = seedRun(store);
    const sheet = createPairwiseSheet(store, { runId, seed: 7, pairs: 10 });
    expect(sheet.items).toHaveLength(10);
    expect(store.pairwise.counts(sheet.id)).toEqual({ judged: 0, total: 10 });
    choosePair(store, sheet.items[0]!.id, 'a');
    choosePair(store, sheet.items[1]!.id, 'tie');
    choosePair(store, sheet.items[2]!.id, 'b');
    choosePair(store, sheet.items[2]!.id, null);
    store.close();

    store = openStore(path);
    expect(store.pairwise.counts(sheet.id)).toEqual({ judged: 2, total: 10 });
    expect(
      store.pairwise
        .items(sheet.id)
        .map((it) => it.choice)
        .slice(0, 3),
    ).toEqual(['a', 'tie', null]);
    const [info] = listPairwiseSheets(store, runId);
    expect(info).toMatchObject({ id: sheet.id, runId, unblinded: false, judged: 2, total: 10 });
    expect(() => store.pairwise.setChoice(999_999, 'a')).toThrow(/not found/);
    store.close();
  });

  it('lists a run’s sheets newest first', () => {
    const store = openStore(':memory:');
    const runId = seedRun(store);
    const first = createPairwiseSheet(store, { runId, seed: 1, pairs: 3 });
    const second = createPairwiseSheet(store, { runId, seed: 2, pairs: 3 });
    expect(listPairwiseSheets(store, runId).map((s) => s.id)).toEqual([second.id, first.id]);
    store.close();
  });
});

describe('pairwise sheets', () => {
  it('pairs the student with the teacher on distinct held-out questions, A/B drawn per pair from the seed', () => {
    const items = evalItems(60);
    const pairs = pickPairs(items, { seed: 42 });
    expect(pairs).toHaveLength(50);
    expect(new Set(pairs.map((p) => p.questionId)).size).toBe(50);
    for (const p of pairs) {
      expect(new Set([p.sourceA, p.sourceB])).toEqual(new Set(['student', 'teacher']));
      const q = items.find((it) => it.questionId === p.questionId)!;
      expect(p.answerA).toBe(q.answers[p.sourceA]);
      expect(p.answerB).toBe(q.answers[p.sourceB]);
    }
    const studentFirst = pairs.filter((p) => p.sourceA === 'student').length;
    // A fair coin per pair: neither side always the student (P(<= 12 of 50) < 0.001).
    expect(studentFirst).toBeGreaterThan(12);
    expect(studentFirst).toBeLessThan(38);
    expect(pickPairs(items, { seed: 42 })).toEqual(pairs);
    expect(pickPairs(items, { seed: 43 })).not.toEqual(pairs);
  });

  it('skips questions missing either answer and takes what there is when fewer than asked', () => {
    const items = evalItems(5);
    items[0]!.answers.teacher = '  ';
    items[1]!.answers.student = '';
    const pairs = pickPairs(items, { seed: 1, pairs: 50 });
    expect(pairs.map((p) => p.questionId).sort()).toEqual([3, 4, 5]);
  });

  it('hides the sources until un-blinded, also on each saved choice', () => {
    const store = openStore(':memory:');
    const runId = seedRun(store);
    const sheet = createPairwiseSheet(store, { runId, seed: 3, pairs: 5 });
    expect(sheet.blind).toBe(true);
    expect(sheet.items.every((it) => it.sourceA === null && it.sourceB === null)).toBe(true);
    expect(choosePair(store, sheet.items[0]!.id, 'a').sourceA).toBeNull();
    const summary = pairwiseSummary(store, sheet.id);
    expect(summary.student).toBeNull();
    expect(summary.picks).toEqual({ a: 1, b: 0, tie: 0 });
    pairwiseSummary(store, sheet.id, { unblind: true });
    const revealed = getPairwiseSheet(store, sheet.id);
    expect(revealed.blind).toBe(false);
    expect(revealed.items.every((it) => it.sourceA !== null && it.sourceB !== null)).toBe(true);
    store.close();
  });

  it('refuses a run with no evaluation, an unknown item or sheet, a bad choice or size', () => {
    const store = openStore(':memory:');
    const bare = store.runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'smoke', dir });
    expect(() => createPairwiseSheet(store, { runId: bare.id })).toThrow(ReviewError);
    const runId = seedRun(store);
    expect(() => createPairwiseSheet(store, { runId, pairs: 0 })).toThrow(/1 to 1000 pairs/);
    expect(() => choosePair(store, 123_456, 'a')).toThrow(/Unknown pairwise item/);
    expect(() => pairwiseSummary(store, 'pairwise-nope')).toThrow(/Unknown pairwise sheet/);
    const sheet = createPairwiseSheet(store, { runId, seed: 1, pairs: 2 });
    expect(() => choosePair(store, sheet.items[0]!.id, 'left' as never)).toThrow(/one of a, b, tie/);
    store.close();
  });
});

describe('the student’s preference share', () => {
  it('scores a pair 1 when the student is picked, 0 when the other is, 0.5 for a tie', () => {
    const base = { sourceA: 'student', sourceB: 'teacher' } as const;
    expect(studentScore({ ...base, choice: 'a' })).toBe(1);
    expect(studentScore({ ...base, choice: 'b' })).toBe(0);
    expect(studentScore({ ...base, choice: 'tie' })).toBe(0.5);
    expect(studentScore({ ...base, choice: null })).toBeNull();
    expect(studentScore({ sourceA: 'teacher', sourceB: 'student', choice: 'b' })).toBe(1);
  });

  it('counts ties as half a win and gives the bootstrap interval the evaluation uses', () => {
    // 6 wins, 2 ties, 2 losses: (6 + 2/2) / 10 = 0.7.
    const scores = [1, 1, 1, 1, 1, 1, 0.5, 0.5, 0, 0];
    const pref = preferenceShare(scores)!;
    expect(pref.share).toBeCloseTo(0.7, 12);
    const mean = (ix: readonly number[]): number => ix.reduce((a, i) => a + scores[i]!, 0) / ix.length;
    expect(pref.interval).toEqual(bootstrap(scores.length, mean));
    expect(pref.interval.low).toBeLessThan(0.7);
    expect(pref.interval.high).toBeGreaterThan(0.7);
    expect(pref.interval.low).toBeGreaterThanOrEqual(0.35);
    expect(pref.interval.high).toBeLessThanOrEqual(0.95);
    expect(preferenceShare([])).toBeNull();
    // No variation in the sample: a zero-width interval at the share.
    expect(preferenceShare([0.5, 0.5, 0.5])).toEqual({ share: 0.5, interval: { low: 0.5, high: 0.5 } });
  });

  it('summarises a judged sheet once un-blinded: wins, losses, ties, share and interval', () => {
    const store = openStore(':memory:');
    const runId = seedRun(store);
    const sheet = createPairwiseSheet(store, { runId, seed: 11, pairs: 20 });
    // 8 wins, 4 ties, 6 losses, 2 left unjudged.
    sheet.items.slice(0, 18).forEach((it, i) => pick(it, i < 8 ? true : i < 12 ? null : false, store));
    const blind = pairwiseSummary(store, sheet.id);
    expect(blind).toMatchObject({ judged: 18, total: 20, student: null });
    expect(blind.picks.a + blind.picks.b + blind.picks.tie).toBe(18);
    expect(blind.picks.tie).toBe(4);
    const s = pairwiseSummary(store, sheet.id, { unblind: true }).student!;
    expect(s).toMatchObject({ against: 'teacher', wins: 8, losses: 6, ties: 4 });
    expect(s.share).toBeCloseTo(10 / 18, 12);
    expect(s.interval.low).toBeLessThan(s.share);
    expect(s.interval.high).toBeGreaterThan(s.share);
    store.close();
  });
});

describe('pairwise export and the report', () => {
  it('writes pairwise_review.csv with sources hidden while blind, and a second sheet beside it', () => {
    const store = openStore(':memory:');
    const runDir = mkdtempSync(join(dir, 'run-'));
    const runId = seedRun(store, evalItems(12), runDir);
    const sheet = createPairwiseSheet(store, { runId, seed: 5, pairs: 4 });
    pick(sheet.items[0]!, true, store);
    choosePair(store, sheet.items[1]!.id, 'tie');
    const { csvPath } = exportPairwise(store, sheet.id, runDir);
    expect(csvPath).toBe(join(runDir, 'pairwise_review.csv'));
    let rows = parseCsv(readFileSync(csvPath, 'utf8'));
    const col = (name: string): number => rows[0]!.indexOf(name);
    expect(rows).toHaveLength(5);
    expect(rows[1]![col('sheet')]).toBe(sheet.id);
    expect(rows.slice(1).map((r) => r[col('source_a')])).toEqual(['hidden', 'hidden', 'hidden', 'hidden']);
    expect(rows[1]![col('preferred')]).toBe('hidden');
    expect(rows[2]![col('preferred')]).toBe('tie');
    expect(rows[3]![col('choice')]).toBe('');

    pairwiseSummary(store, sheet.id, { unblind: true });
    expect(exportPairwise(store, sheet.id, runDir).csvPath).toBe(csvPath);
    rows = parseCsv(readFileSync(csvPath, 'utf8'));
    expect(rows[1]![col('preferred')]).toBe('student');
    expect(rows[1]![col('student_score')]).toBe('1');
    expect(rows[2]![col('student_score')]).toBe('0.5');

    const other = createPairwiseSheet(store, { runId, seed: 6, pairs: 2 });
    expect(exportPairwise(store, other.id, runDir).csvPath).toBe(
      join(runDir, `pairwise_review_${other.id}.csv`),
    );
    expect(parseCsv(readFileSync(csvPath, 'utf8'))[1]![col('sheet')]).toBe(sheet.id);
    store.close();
  });

  it('puts the preference share with its interval, ties counted half, in RESULTS_REPORT.md', () => {
    const store = openStore(':memory:');
    const runDir = mkdtempSync(join(dir, 'run-'));
    const runId = seedRun(store, evalItems(12), runDir);
    const run = store.runs.require(runId);
    const reportPath = join(runDir, 'RESULTS_REPORT.md');
    writeFileSync(reportPath, renderResultsReport({ run, generatedAt: 'GEN' }));
    const before = readFileSync(reportPath, 'utf8');
    expect(before).toContain('### Pairwise A/B: student against teacher\n\nnot measured');

    const sheet = createPairwiseSheet(store, { runId, seed: 9, pairs: 10 });
    sheet.items.forEach((it, i) => pick(it, i < 5 ? true : i < 7 ? null : false, store));
    expect(refreshReviewSection(store, runId, reportPath)).toBe(reportPath);
    let md = readFileSync(reportPath, 'utf8');
    expect(md).toContain('10 of 10 held-out questions judged');
    expect(md).toContain('hidden until the sheet is un-blinded');
    expect(md).not.toMatch(/Preference share for the student/);

    const s = pairwiseSummary(store, sheet.id, { unblind: true }).student!;
    refreshReviewSection(store, runId, reportPath);
    md = readFileSync(reportPath, 'utf8');
    const ci = `${(s.interval.low * 100).toFixed(1)}, ${(s.interval.high * 100).toFixed(1)}`;
    expect(md).toContain(`**Preference share for the student: 60.0% [${ci}]**`);
    expect(md).toContain('a tie counts as half a win');
    expect(md).toContain('| student preferred | 5 |');
    expect(md).toContain('| teacher preferred | 3 |');
    expect(md).toContain('| tie | 2 |');
    // Only the review section changed; the sections around it are as written.
    const outside = (text: string): string[] => [
      text.split('## Manual review')[0]!,
      `## Honest notes${text.split('## Honest notes')[1]!}`,
    ];
    expect(outside(md)).toEqual(outside(before));
    expect(md.match(/## Manual review/g)).toHaveLength(1);
    expect(md).not.toMatch(/\n\n\n/);
    store.close();
  });

  it('leaves a run without a report alone', () => {
    const store = openStore(':memory:');
    const runId = seedRun(store);
    expect(refreshReviewSection(store, runId, join(dir, 'no-such', 'RESULTS_REPORT.md'))).toBeNull();
    store.close();
  });
});
