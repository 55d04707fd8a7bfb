import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EvaluationItemRow, EvaluationSummary, ReviewDimension } from '../../../src-shared/contract';
import { collectGoodPairs, distillDatasetPath } from '../../../src-main/pipeline/recipes/good-pairs';
import { openStore, type Store } from '../../../src-main/store';

describe('good-pairs collection', () => {
  let store: Store;
  let dir: string;
  beforeEach(() => {
    store = openStore(':memory:');
    dir = mkdtempSync(join(tmpdir(), 'cs-pairs-'));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('collects pairs scoring >= 0.7 and writes only approved ones to distill_dataset.jsonl', () => {
    const run = store.runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'smoke', dir });
    const item = (q: string, pTeacher: number, pStudent: number): EvaluationItemRow => ({
      questionId: 1,
      category: 'music',
      question: q,
      answers: { student: `student on ${q}`, teacher: `teacher on ${q}`, base: `base on ${q}` },
      inCharacter: { student: pStudent, teacher: pTeacher, base: 0.1 },
      similarityToTeacher: { student: { difflib: 0.5, cosine: 0.5 }, base: { difflib: 0.1, cosine: 0.1 } },
    });
    const evaluationId = store.evaluations.save({
      runId: run.id,
      checkpointId: null,
      summary: { runId: run.id } as unknown as EvaluationSummary,
      items: [item('Q1', 0.9, 0.2), item('Q2', 0.6, 0.75)],
    });
    const sheet = store.reviews.createSheet({
      runId: run.id,
      evaluationId,
      blind: false,
      items: [
        { category: 'music', question: 'R1', answer: 'approved answer', source: 'student' },
        { category: 'music', question: 'R2', answer: 'mediocre answer', source: 'student' },
        { category: 'music', question: 'R3', answer: 'teacher on Q1', source: 'teacher' },
      ],
    });
    const [a, b, c] = store.reviews.items(sheet.id);
    const all = (v: number): Record<ReviewDimension, number> => ({
      characterConsistency: v,
      historicalAccuracy: v,
      emotionalAuthenticity: v,
      speechPatterns: v,
    });
    store.reviews.updateItem(a!.id, { ratings: all(5) });
    store.reviews.updateItem(b!.id, { ratings: { ...all(4), speechPatterns: 2 } }); // 0.7 mean, one rating < 4
    store.reviews.updateItem(c!.id, { ratings: all(4) });

    const r = collectGoodPairs(store, dir);
    expect(r.fromEvaluations).toBe(2); // Q1 teacher (0.9), Q2 student (0.75)
    expect(r.fromReviews).toBe(3);
    expect(r.approved).toBe(2);
    const rows = readFileSync(distillDatasetPath(dir), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { messages: { content: string }[] });
    expect(rows.map((x) => x.messages[1]!.content).sort()).toEqual(['approved answer', 'teacher on Q1']);
    // Collecting again adds nothing new.
    expect(collectGoodPairs(store, dir).added).toBe(0);
  });
});

describe('good-pairs run steps', () => {
  it('turns approved pairs into questions (a tenth held out) and teacher examples', async () => {
    const { goodPairsQuestionsStep, goodPairsGenerateStep } =
      await import('../../../src-main/pipeline/recipes/good-pairs');
    const { scaleConfig } = await import('../../../src-main/core/scales');
    const { runPaths } = await import('../../../src-main/core/paths');
    const store = openStore(':memory:');
    try {
      store.goodPairs.add(
        Array.from({ length: 20 }, (_, i) => ({
          prompt: `P${i}`,
          answer: `A${i}`,
          score: 0.8,
          approved: i < 15,
        })),
      );
      store.goodPairs.add([{ prompt: 'low', answer: 'low', score: 0.5, approved: true }]);
      const run = store.runs.create({
        personaId: 'beethoven',
        personaVersion: 1,
        scale: 'smoke',
        dir: '/tmp/x',
      });
      const ctx = {
        run,
        paths: runPaths('/tmp/x', run.id),
        scale: scaleConfig('smoke'),
        signal: new AbortController().signal,
        progress: () => undefined,
        log: () => undefined,
      };
      const studio = { store } as unknown as Parameters<typeof goodPairsQuestionsStep>[0];
      await goodPairsQuestionsStep(studio, ctx);
      await goodPairsGenerateStep(studio, ctx);
      const qs = store.questions.listByRun(run.id);
      expect(qs).toHaveLength(15); // approved with score >= 0.7 only
      expect(qs.filter((q) => q.heldout)).toHaveLength(1);
      const ex = store.examples.listByRun(run.id);
      expect(ex).toHaveLength(15);
      for (const e of ex) expect(e.answer).toBe(e.question.replace('P', 'A'));
    } finally {
      store.close();
    }
  });
});
