/**
 * Every stage of the character recipe (the DPO adapter, the introspection SFT adapter, the
 * merged one) measured like the final student: captured (1 − KL_stage / KL_base per token on
 * the held-out teacher answers, with its interval) and the in-character share of its own
 * held-out answers under the run's classifier (with its interval), and the embedding cosine of
 * those answers to the teacher's with the base's beside it. The final checkpoint's row repeats
 * the student's figures rather than measuring them twice.
 */
import type { StageMetrics } from '../../src-shared/character';
import type { DistillationMetrics } from '../../src-shared/contract';
import type { EngineClient } from '../engine/client';
import { generateAll } from '../engine/generate-all';
import { EVAL_CHUNK, heldOutSampling } from './answers';
import { bootstrap, shareInterval } from './intervals';
import { cosineSimilarity } from './metrics';
import type { EvaluationProgress } from './progress';
import type { EvaluateInput, StageCheckpoint } from './types';

/** At most this many adapters go into one kl_metrics call (the engine's limit is 4 per base). */
const MAX_STAGE_ADAPTERS = 3;

/** 1 − ΣKL(model) / ΣKL(base) over the answers `ix` (the captured statistic, resampled by bootstrap). */
export function capturedOf(kl: readonly number[], klBase: readonly number[], ix: readonly number[]): number {
  let s = 0;
  let b = 0;
  for (const i of ix) {
    s += kl[i] as number;
    b += klBase[i] as number;
  }
  return b > 0 ? 1 - s / b : NaN;
}

export async function stageMetrics(
  engine: EngineClient,
  input: EvaluateInput,
  stages: readonly StageCheckpoint[],
  student: {
    inCharacter: readonly number[];
    distillation: DistillationMetrics | null;
    /** Per held-out question: the student's and the base's answer's cosine to the teacher's. */
    cosine: readonly number[];
    baseCosine: readonly number[];
    teacherAnswers: readonly string[];
  },
  progress: EvaluationProgress,
): Promise<StageMetrics[]> {
  const n = input.heldOut.length;
  const out: StageMetrics[] = [];
  const others = stages.filter((s) => s.checkpointId !== input.checkpointId).slice(0, MAX_STAGE_ADAPTERS);
  const answered = input.heldOut.filter((q) => q.teacherAnswer && q.teacherAnswer.trim() !== '');
  let kl: { base: number[]; stages: number[][]; tokens: number[] } | null = null;
  if (input.teacherModel && answered.length > 0 && others.length > 0) {
    const result = await engine.call(
      'kl_metrics',
      {
        teacher: { model: input.teacherModel, system: input.systemPrompt },
        students: [
          { model: input.model },
          ...others.map((s) => ({ model: input.model, adapter: s.adapterPath })),
        ],
        items: answered.map((q) => ({
          messages: [{ role: 'user' as const, content: q.question }],
          response: q.teacherAnswer as string,
        })),
      },
      { signal: input.signal },
    );
    kl = {
      base: result.items.map((it) => it.students[0]?.kl ?? NaN),
      stages: others.map((_, k) => result.items.map((it) => it.students[k + 1]?.kl ?? NaN)),
      tokens: result.items.map((it) => it.tokens),
    };
  }
  for (const [k, s] of others.entries()) {
    const phase = progress.phase(`stage ${s.stage}: held-out answers`);
    const outs = await generateAll(engine, {
      model: input.model,
      adapter: s.adapterPath,
      prompts: input.heldOut.map((q) => q.question),
      sampling: heldOutSampling(input.settings),
      chunkSize: EVAL_CHUNK,
      signal: input.signal,
      onProgress: phase.update,
    });
    phase.end(n);
    const { probs } = await engine.call(
      'classifier_predict',
      { path: input.classifierPath, texts: outs.map((o) => o.text.trim()) },
      { signal: input.signal },
    );
    const flags = probs.map((p) => p >= 0.5);
    const emb = await engine.call(
      'embed',
      { texts: [...outs.map((o) => o.text.trim()), ...student.teacherAnswers] },
      { signal: input.signal },
    );
    const cos = outs.map((_, i) => cosineSimilarity(emb.vectors[i] ?? [], emb.vectors[n + i] ?? []));
    const stageKl = kl?.stages[k];
    const total = kl ? kl.tokens.reduce((a, b) => a + b, 0) : 0;
    out.push({
      stage: s.stage,
      checkpointId: s.checkpointId,
      captured:
        kl && stageKl
          ? capturedOf(
              stageKl,
              kl.base,
              stageKl.map((_, i) => i),
            )
          : null,
      capturedInterval:
        kl && stageKl ? bootstrap(stageKl.length, (ix) => capturedOf(stageKl, kl.base, ix)) : null,
      klPerToken: kl && stageKl && total > 0 ? stageKl.reduce((a, b) => a + b, 0) / total : null,
      inCharacterShare: flags.length ? flags.filter(Boolean).length / flags.length : NaN,
      inCharacterInterval: shareInterval(flags),
      n: flags.length,
      cosineToTeacher: cosineSummary(cos, student.baseCosine),
    });
  }
  const final = stages.find((s) => s.checkpointId === input.checkpointId);
  if (final) {
    const flags = student.inCharacter.map((p) => p >= 0.5);
    const d = student.distillation;
    out.push({
      stage: final.stage,
      checkpointId: final.checkpointId,
      captured: d ? d.captured : null,
      capturedInterval: d ? d.intervals.captured : null,
      klPerToken: d ? d.klStudent : null,
      inCharacterShare: flags.length ? flags.filter(Boolean).length / flags.length : NaN,
      inCharacterInterval: shareInterval(flags),
      n: flags.length,
      cosineToTeacher: cosineSummary(student.cosine, student.baseCosine),
    });
  }
  return out;
}

function meanOf(xs: readonly number[], ix: readonly number[]): number {
  let s = 0;
  for (const i of ix) s += xs[i] as number;
  return ix.length ? s / ix.length : NaN;
}

function cosineSummary(
  cos: readonly number[],
  base: readonly number[],
): NonNullable<StageMetrics['cosineToTeacher']> {
  const all = cos.map((_, i) => i);
  return {
    stage: meanOf(cos, all),
    interval: bootstrap(cos.length, (ix) => meanOf(cos, ix)),
    base: meanOf(
      base,
      base.map((_, i) => i),
    ),
  };
}
