/**
 * The good-pairs recipe (mini distillation spec): collect question -> answer pairs that scored
 * >= 0.7 from evaluation logs and reviews into the good_pairs table; pairs a reviewer rated
 * 4 or 5 on every dimension are approved. The approved pairs with score >= 0.7 are written to
 * <dataDir>/distill_dataset.jsonl, which grows over time, and a `good-pairs` run trains on them
 * (its questions and "teacher" answers are the approved pairs; a tenth is held out).
 */
import { join } from 'node:path';
import { REVIEW_DIMENSIONS } from '../../../src-shared/contract';
import { toChatRow, writeJsonl } from '../../datasets';
import type { Store } from '../../store';
import { PipelineError } from '../../core/errors';
import type { StepContext } from '../runner';
import type { PipelineServices } from '../services';

/** The spec's threshold: only pairs scoring at least this much are collected. */
export const GOOD_PAIR_MIN_SCORE = 0.7;
/** Share of the approved pairs a good-pairs run holds out for evaluation. */
const HELD_OUT_SHARE = 0.1;

export function distillDatasetPath(dataDir: string): string {
  return join(dataDir, 'distill_dataset.jsonl');
}

export interface CollectResult {
  fromEvaluations: number;
  fromReviews: number;
  added: number;
  approved: number;
  datasetPath: string;
  datasetRows: number;
}

/**
 * Scores: an evaluation answer's in-character probability (the classifier's p); a reviewed
 * answer's mean rating / 5. A reviewed answer is approved when every dimension is rated >= 4.
 */
export function collectGoodPairs(
  store: Store,
  dataDir: string,
  minScore = GOOD_PAIR_MIN_SCORE,
): CollectResult {
  const rows: { prompt: string; answer: string; score: number; approved: boolean; source: string }[] = [];
  let fromEvaluations = 0;
  let fromReviews = 0;
  for (const run of store.runs.list()) {
    for (const ev of store.evaluations.list(run.id)) {
      const full = store.evaluations.get(ev.id);
      for (const item of full?.items ?? []) {
        for (const role of ['teacher', 'student'] as const) {
          const p = item.inCharacter[role];
          const answer = item.answers[role];
          if (Number.isFinite(p) && p >= minScore && answer.trim() !== '') {
            rows.push({
              prompt: item.question,
              answer,
              score: p,
              approved: false,
              source: `eval:${ev.id}:${role}`,
            });
            fromEvaluations += 1;
          }
        }
      }
    }
    for (const sheet of store.reviews.listSheets(run.id)) {
      for (const item of store.reviews.items(sheet.id)) {
        const ratings = REVIEW_DIMENSIONS.map((d) => item.ratings[d]).filter(
          (r): r is number => typeof r === 'number',
        );
        if (ratings.length === 0) continue;
        const score = ratings.reduce((a, b) => a + b, 0) / ratings.length / 5;
        if (score < minScore) continue;
        const approved = ratings.length === REVIEW_DIMENSIONS.length && ratings.every((r) => r >= 4);
        rows.push({
          prompt: item.question,
          answer: item.answer,
          score,
          approved,
          source: `review:${sheet.id}:${item.id}`,
        });
        fromReviews += 1;
      }
    }
  }
  const added = store.goodPairs.add(rows);
  // A pair first seen in an evaluation and later approved in a review is approved.
  const approvedKeys = new Set(rows.filter((r) => r.approved).map((r) => `${r.prompt}\u0000${r.answer}`));
  for (const p of store.goodPairs.list()) {
    if (!p.approved && approvedKeys.has(`${p.prompt}\u0000${p.answer}`))
      store.goodPairs.setApproved(p.id, true);
  }
  const dataset = store.goodPairs.list({ approved: true, minScore });
  const datasetPath = distillDatasetPath(dataDir);
  writeJsonl(
    datasetPath,
    dataset.map((p) => ({ ...toChatRow(p.prompt, p.answer), score: p.score, source: p.source })),
  );
  return {
    fromEvaluations,
    fromReviews,
    added,
    approved: dataset.length,
    datasetPath,
    datasetRows: dataset.length,
  };
}

/** questions step of a good-pairs run: one question per approved pair, a tenth held out. */
export async function goodPairsQuestionsStep(studio: PipelineServices, ctx: StepContext): Promise<void> {
  const { store } = studio;
  if (store.questions.countByRun(ctx.run.id) > 0) return;
  const pairs = store.goodPairs.list({ approved: true, minScore: GOOD_PAIR_MIN_SCORE });
  if (pairs.length < 4) {
    throw new PipelineError(
      `only ${pairs.length} approved pairs with score >= ${GOOD_PAIR_MIN_SCORE}: collect more (character distill collect) and approve them in a review`,
    );
  }
  const heldEvery = Math.max(2, Math.round(1 / HELD_OUT_SHARE));
  store.questions.insertMany(
    ctx.run.id,
    pairs.map((p, i) => ({
      id: i + 1,
      category: 'good-pair',
      text: p.prompt,
      heldout: (i + 1) % heldEvery === 0,
      template: `good_pair:${p.id}`,
    })),
  );
  ctx.progress(pairs.length, pairs.length);
}

/** generate step of a good-pairs run: the approved answers are the teacher data. */
export async function goodPairsGenerateStep(studio: PipelineServices, ctx: StepContext): Promise<void> {
  const { store } = studio;
  const byId = new Map(store.goodPairs.list().map((p) => [p.id, p]));
  const questions = store.questions.listByRun(ctx.run.id);
  store.examples.insertMany(
    ctx.run.id,
    questions.flatMap((q) => {
      const pair = byId.get(Number((q.template ?? '').replace('good_pair:', '')));
      return pair
        ? [
            {
              questionId: q.id,
              answer: pair.answer,
              promptTokens: 0,
              completionTokens: 0,
              provider: 'good-pairs',
              model: pair.source,
              latencyMs: 0,
            },
          ]
        : [];
    }),
  );
  ctx.progress(questions.length, questions.length);
}
