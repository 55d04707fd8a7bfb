/**
 * Paper mode's merge weights, chosen by measurement. At (1, 1) the merge of the DPO and the
 * introspection adapters broke the model on a mini run (22.9% in character, captured −2.44,
 * README): two full updates added overshoot. Every point of a grid of weights is merged and
 * scored on the run's VALIDATION questions (never the held-out ones, which the final
 * evaluation reports):
 *   captured        1 − Σ KL(teacher ‖ merged) / Σ KL(teacher ‖ base) over the validation
 *                   teacher answers' tokens, with a bootstrap interval;
 *   in character    the share of the merged model's own answers (SAMPLES per question, no
 *                   system prompt) that a classifier fitted on the TRAINING questions (teacher
 *                   answers vs the base's rejected answers) calls in character, with its interval.
 * The choice: among the points whose in-character share reaches the interval of the best
 * share, the one with the highest captured (the character first, then closeness to the
 * teacher). The grid and the choice are written to merge-grid.json; the chosen weights are the
 * merged checkpoint's lineage (character-merge.ts).
 */
import { capturedOf } from '../../evaluation/stages';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CharacterRecipeOptions, MergeGridPoint } from '../../../src-shared/character';
import { generateAll } from '../../engine/generate-all';
import { bootstrap, shareInterval } from '../../evaluation/intervals';
import type { CheckpointRecord } from '../../store';
import type { StepContext } from '../runner';
import type { PipelineServices } from '../services';
import { alreadyMerged } from './character-merge';

/** Each adapter's weight takes every value (the grid: 0.25 to 1 for each). */
export const MERGE_GRID_WEIGHTS: readonly number[] = [0.25, 0.5, 0.75, 1];
/** Answers per validation question for the in-character share (a mini run has 9 questions). */
const SAMPLES = 4;
/** Adapters per kl_metrics call besides the base (the engine's limit is 4 students per base). */
const KL_GROUP = 3;
export const GRID_DIR = 'merge-grid';

type Weights = CharacterRecipeOptions['mergeWeights'];

/** The grid's choice: see the file comment. Exported for the test. */
export function chooseFromGrid(points: readonly MergeGridPoint[]): MergeGridPoint | null {
  const scored = points.filter((p) => Number.isFinite(p.inCharacterShare));
  if (scored.length === 0) return null;
  const best = scored.reduce((a, b) => (b.inCharacterShare > a.inCharacterShare ? b : a));
  const floor = Number.isFinite(best.inCharacterInterval.low)
    ? best.inCharacterInterval.low
    : best.inCharacterShare;
  const eligible = scored.filter((p) => p.inCharacterShare >= floor);
  const key = (p: MergeGridPoint): number => (Number.isFinite(p.captured) ? p.captured : -Infinity);
  return eligible.reduce((a, b) => (key(b) > key(a) ? b : a));
}

export async function chooseMergeWeights(
  studio: PipelineServices,
  ctx: StepContext,
  dpo: CheckpointRecord,
  sft: CheckpointRecord,
  opts: { rejected: ReadonlyMap<number, string>; fallback: Weights },
): Promise<Weights> {
  const { engine, store } = studio;
  const run = ctx.run;
  const persona = studio.personas.get(run.personaId, run.personaVersion);
  const val = store.examples.listByRun(run.id, { split: 'val' }).filter((e) => e.answer.trim() !== '');
  const train = store.examples.listByRun(run.id, { split: 'train' });
  if (val.length === 0) {
    ctx.log(
      `merge grid: no validation questions; merging at ${opts.fallback.dpo} x DPO + ${opts.fallback.sft} x SFT`,
    );
    return opts.fallback;
  }
  const dir = join(ctx.paths.dir, GRID_DIR);
  mkdirSync(dir, { recursive: true });
  const grid = MERGE_GRID_WEIGHTS.flatMap((d) => MERGE_GRID_WEIGHTS.map((s) => ({ dpo: d, sft: s })));
  const total = grid.length * 2 + 1;
  let done = 0;
  const tick = (msg: string): void => ctx.progress(++done, total, `merge grid: ${msg}`);

  // The classifier, fitted on training questions only.
  const negatives = train.map((e) => opts.rejected.get(e.questionId) ?? '').filter((t) => t.trim() !== '');
  const classifierPath = join(dir, 'in_character.joblib');
  await engine.call(
    'classifier_fit',
    {
      texts: [...train.map((e) => e.answer), ...negatives],
      labels: [...train.map(() => 1), ...negatives.map(() => 0)],
      save_path: classifierPath,
      seed: 0,
    },
    { signal: ctx.signal },
  );
  tick('classifier (training questions)');

  const folders = grid.map((w) => join(dir, `dpo${w.dpo}-sft${w.sft}`));
  for (const [i, w] of grid.entries()) {
    const parts = [
      { path: dpo.path, weight: w.dpo },
      { path: sft.path, weight: w.sft },
    ];
    const out = folders[i] as string;
    if (!alreadyMerged(out, parts))
      await engine.call('merge_adapters', { adapters: parts, output_dir: out }, { signal: ctx.signal });
    tick(`merged ${w.dpo} x DPO + ${w.sft} x SFT`);
  }

  // Captured on the validation teacher answers, KL_GROUP adapters per call (the base each time).
  const items = val.map((e) => ({
    messages: [{ role: 'user' as const, content: e.question }],
    response: e.answer,
  }));
  const kl: number[][] = [];
  let klBase: number[] = [];
  for (let g = 0; g < folders.length; g += KL_GROUP) {
    const group = folders.slice(g, g + KL_GROUP);
    const result = await engine.call(
      'kl_metrics',
      {
        teacher: { model: run.config.teacherModel, system: persona.systemPrompt },
        students: [
          { model: run.config.studentModel },
          ...group.map((a) => ({ model: run.config.studentModel, adapter: a })),
        ],
        items,
      },
      { signal: ctx.signal },
    );
    klBase = result.items.map((it) => it.students[0]?.kl ?? NaN);
    group.forEach((_, k) => kl.push(result.items.map((it) => it.students[k + 1]?.kl ?? NaN)));
  }

  // In character: the merged model's own answers to the validation questions.
  const ev = ctx.scale.evaluation;
  const prompts = val.flatMap((e) => Array.from({ length: SAMPLES }, () => e.question));
  const points: MergeGridPoint[] = [];
  for (const [i, w] of grid.entries()) {
    const outs = await generateAll(engine, {
      model: run.config.studentModel,
      adapter: folders[i] as string,
      prompts,
      sampling: { temperature: ev.temperature, top_p: ev.topP, max_new_tokens: ev.maxNewTokens, seed: 0 },
      chunkSize: prompts.length,
      signal: ctx.signal,
    });
    const { probs } = await engine.call(
      'classifier_predict',
      { path: classifierPath, texts: outs.map((o) => o.text.trim()) },
      { signal: ctx.signal },
    );
    const flags = probs.map((p) => p >= 0.5);
    const k = kl[i] as number[];
    points.push({
      ...w,
      captured: capturedOf(
        k,
        klBase,
        k.map((_, j) => j),
      ),
      capturedInterval: bootstrap(k.length, (ix) => capturedOf(k, klBase, ix)),
      inCharacterShare: flags.filter(Boolean).length / Math.max(1, flags.length),
      inCharacterInterval: shareInterval(flags),
      n: flags.length,
    });
    tick(`scored ${w.dpo} x DPO + ${w.sft} x SFT`);
  }
  const chosen = chooseFromGrid(points);
  const weights = chosen ? { dpo: chosen.dpo, sft: chosen.sft } : opts.fallback;
  writeFileSync(
    join(ctx.paths.dir, 'merge-grid.json'),
    `${JSON.stringify({ questions: val.length, samples: SAMPLES, points, chosen: weights }, null, 2)}\n`,
  );
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  for (const p of points)
    ctx.log(
      `merge grid ${p.dpo} x DPO + ${p.sft} x SFT: captured ${p.captured.toFixed(3)} [${p.capturedInterval?.low.toFixed(3)}, ${p.capturedInterval?.high.toFixed(3)}], in character ${pct(p.inCharacterShare)} [${pct(p.inCharacterInterval.low)}, ${pct(p.inCharacterInterval.high)}] (n ${p.n})`,
    );
  ctx.log(
    `merge grid: chose ${weights.dpo} x DPO + ${weights.sft} x SFT on ${val.length} validation questions (merge-grid.json)`,
  );
  return weights;
}
