import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REVIEW_DIMENSIONS, type EvaluationSummary } from '../../../src-shared/contract';
import { parseCsv } from '../../../src-main/datasets';
import {
  createReviewSheet,
  exportReview,
  getReviewSheet,
  noteItem,
  rateItem,
  REVIEW_CATEGORIES,
  ReviewError,
  reviewSummary,
} from '../../../src-main/review';
import { openStore, type EvaluationItemRecord, type Store } from '../../../src-main/store';

const dir = mkdtempSync(join(tmpdir(), 'review-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function seed(store: Store, perCat = 14): string {
  const run = store.runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'smoke', dir });
  const cats = [...REVIEW_CATEGORIES, 'contemporary'];
  const items: EvaluationItemRecord[] = [];
  let q = 0;
  for (const c of cats) {
    for (let i = 0; i < perCat; i++) {
      q++;
      items.push({
        questionId: q,
        category: c,
        question: `${c} question ${i}?`,
        answers: { student: `student answer ${q}`, teacher: `teacher answer ${q}`, base: `base answer ${q}` },
        inCharacter: { student: 1, teacher: 1, base: 0 },
        similarityToTeacher: { student: { difflib: 0.5, cosine: 0.5 }, base: { difflib: 0.1, cosine: 0.1 } },
      });
    }
  }
  store.evaluations.save({
    runId: run.id,
    checkpointId: null,
    summary: { runId: run.id } as EvaluationSummary,
    items,
  });
  return run.id;
}

describe('review sheets', () => {
  it('creates 50 items, 10 in each of the 5 categories, from the evaluation', () => {
    const store = openStore(':memory:');
    const runId = seed(store);
    const sheet = createReviewSheet(store, { runId, blind: false, seed: 1 });
    expect(sheet.items).toHaveLength(50);
    const per = new Map<string, number>();
    for (const it of sheet.items) per.set(it.category, (per.get(it.category) ?? 0) + 1);
    expect([...per.entries()].sort()).toEqual(REVIEW_CATEGORIES.map((c) => [c, 10]).sort());
    expect(sheet.items.every((it) => it.source === 'student' && it.answer.startsWith('student'))).toBe(true);
    expect(sheet.items.map((i) => i.position)).toEqual([...Array(50).keys()]);
  });

  it('hides sources in blind mode until un-blinded, mixing all three models', () => {
    const store = openStore(':memory:');
    const runId = seed(store);
    const sheet = createReviewSheet(store, { runId, blind: true, seed: 2 });
    expect(sheet.blind).toBe(true);
    expect(sheet.items.every((i) => i.source === null)).toBe(true);
    const kinds = new Set(sheet.items.map((i) => i.answer.split(' ')[0]));
    expect(kinds).toEqual(new Set(['student', 'teacher', 'base']));
    // Ratings on a blind sheet do not leak the source either.
    expect(rateItem(store, sheet.items[0]!.id, 'speechPatterns', 3).source).toBeNull();
    const hidden = reviewSummary(store, sheet.id);
    expect(hidden.passRateBySource).toEqual({});
    // Unknown while blind: neither "meets" nor "below" the target.
    expect(hidden.meetsTarget).toBeNull();
    const revealed = reviewSummary(store, sheet.id, { unblind: true });
    expect(Object.keys(revealed.passRateBySource).sort()).toEqual(['base', 'student', 'teacher']);
    const after = getReviewSheet(store, sheet.id);
    expect(after.blind).toBe(false);
    for (const it of after.items) expect(it.answer.startsWith(it.source!)).toBe(true);
  });

  it("fills a blind 5 x 10 sheet from few questions with all three models' answers", () => {
    const store = openStore(':memory:');
    // 4 questions per category (24 in all): 12 answers per category, 10 of them used.
    const runId = seed(store, 4);
    const sheet = createReviewSheet(store, { runId, blind: true, seed: 5 });
    const after = getReviewSheet(store, reviewSummary(store, sheet.id, { unblind: true }).sheetId);
    expect(after.items).toHaveLength(50);
    const per = new Map<string, number>();
    for (const it of after.items) per.set(it.category, (per.get(it.category) ?? 0) + 1);
    expect([...per.entries()].sort()).toEqual(REVIEW_CATEGORIES.map((c) => [c, 10]).sort());
    // No answer twice; each shown answer is the named model's answer to that question.
    const pairs = after.items.map((it) => `${it.question}|${it.source}`);
    expect(new Set(pairs).size).toBe(50);
    for (const it of after.items) expect(it.answer.startsWith(it.source!)).toBe(true);
    const bySource = new Map<string, number>();
    for (const it of after.items) bySource.set(it.source!, (bySource.get(it.source!) ?? 0) + 1);
    for (const role of ['student', 'teacher', 'base']) expect(bySource.get(role)).toBeGreaterThanOrEqual(12);
  });

  it('reaches 50 from 17 questions in mixed categories on a blind sheet, not on an open one', () => {
    const store = openStore(':memory:');
    const run = store.runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'smoke', dir });
    const cats = [...REVIEW_CATEGORIES, 'contemporary', 'everyday', 'off_topic', 'music_theory'];
    const items: EvaluationItemRecord[] = [...Array(17).keys()].map((q) => ({
      questionId: q + 1,
      category: cats[q % cats.length]!,
      question: `question ${q}?`,
      answers: { student: `student ${q}`, teacher: `teacher ${q}`, base: `base ${q}` },
      inCharacter: { student: 1, teacher: 1, base: 0 },
      similarityToTeacher: { student: { difflib: 0.5, cosine: 0.5 }, base: { difflib: 0.1, cosine: 0.1 } },
    }));
    store.evaluations.save({
      runId: run.id,
      checkpointId: null,
      summary: { runId: run.id } as EvaluationSummary,
      items,
    });
    const blind = createReviewSheet(store, { runId: run.id, blind: true, seed: 6 });
    expect(blind.items).toHaveLength(50);
    // Every question appears before any appears a third time.
    const counts = new Map<string, number>();
    for (const it of blind.items) counts.set(it.question, (counts.get(it.question) ?? 0) + 1);
    expect(counts.size).toBe(17);
    expect(Math.min(...counts.values())).toBeGreaterThanOrEqual(2);
    expect(createReviewSheet(store, { runId: run.id, blind: false, seed: 6 }).items).toHaveLength(17);
  });

  it('validates ratings, saves them and notes immediately, and summarises against the 90% target', () => {
    const store = openStore(':memory:');
    const runId = seed(store);
    const sheet = createReviewSheet(store, { runId, blind: false, seed: 3 });
    const [first, second] = sheet.items;
    expect(() => rateItem(store, first!.id, 'speechPatterns', 6)).toThrow(ReviewError);
    expect(() => rateItem(store, first!.id, 'speechPatterns', 2.5)).toThrow(/whole number/);
    expect(() => rateItem(store, first!.id, 'tone' as never, 3)).toThrow(/Unknown review dimension/);
    expect(() => rateItem(store, 999999, 'speechPatterns', 3)).toThrow(/Unknown review item/);
    // 46 of 50 pass (all 5s), 4 fail (one dimension at 3).
    sheet.items.forEach((it, i) => {
      for (const d of REVIEW_DIMENSIONS)
        rateItem(store, it.id, d, i < 4 && d === 'historicalAccuracy' ? 3 : 5);
    });
    expect(noteItem(store, second!.id, 'Vivid, but "Ja!" twice.').note).toBe('Vivid, but "Ja!" twice.');
    expect(getReviewSheet(store, sheet.id).items[1]!.note).toBe('Vivid, but "Ja!" twice.');
    const s = reviewSummary(store, sheet.id);
    expect(s.rated).toBe(50);
    expect(s.passRateBySource.student).toBeCloseTo(46 / 50);
    expect(s.meetsTarget).toBe(true);
    expect(s.meanByDimension.historicalAccuracy).toBeCloseTo((46 * 5 + 4 * 3) / 50);
    // One more failure drops it to 45/50 = 90%: still meets; two more: 44/50 does not.
    rateItem(store, sheet.items[10]!.id, 'speechPatterns', 1);
    rateItem(store, sheet.items[11]!.id, 'speechPatterns', 1);
    expect(reviewSummary(store, sheet.id).meetsTarget).toBe(false);
  });

  it('exports a CSV and manual_review.txt', () => {
    const store = openStore(':memory:');
    const runId = seed(store);
    const sheet = createReviewSheet(store, { runId, blind: true, seed: 4 });
    rateItem(store, sheet.items[0]!.id, 'characterConsistency', 4);
    noteItem(store, sheet.items[0]!.id, 'a, "quoted"\nnote');
    const out = exportReview(store, sheet.id, join(dir, 'export'));
    const rows = parseCsv(readFileSync(out.csvPath, 'utf8'));
    expect(rows).toHaveLength(51);
    expect(rows[0]).toEqual([
      'position',
      'category',
      'question',
      'answer',
      'source',
      ...REVIEW_DIMENSIONS,
      'pass',
      'note',
    ]);
    expect(rows[1]![4]).toBe('hidden');
    expect(rows[1]![rows[0]!.indexOf('note')]).toBe('a, "quoted"\nnote');
    const txt = readFileSync(out.txtPath, 'utf8');
    expect(txt).toContain('MANUAL REVIEW');
    expect(txt).toContain('#50');
    expect(txt).toContain('hidden until the sheet is un-blinded');
  });

  it('refuses to create a sheet before an evaluation exists', () => {
    const store = openStore(':memory:');
    const run = store.runs.create({ personaId: 'b', personaVersion: 1, scale: 'smoke' });
    expect(() => createReviewSheet(store, { runId: run.id, blind: false })).toThrow(/no evaluation/);
  });
});
