/**
 * The audit, split and report steps: thin calls into datasets/ and reports/, plus the files
 * of the run folder (teacher_data.jsonl with flags and split, train.jsonl, val.jsonl).
 */
import { auditRun, exportRunData, splitRun, writeTeacherData } from '../../datasets';
import { PipelineError, StepOrderError } from '../errors';
import type { StepContext } from '../runner';
import { personas, type StudioServices } from '../service';

export async function auditStep(studio: StudioServices, ctx: StepContext): Promise<void> {
  const { store } = studio;
  const runId = ctx.run.id;
  const total = store.examples.countByRun(runId);
  if (total === 0) throw new StepOrderError('audit', 'teacher answers (run the generate step)');
  const persona = personas(studio).get(ctx.run.personaId, ctx.run.personaVersion);
  const summary = auditRun(store, runId, {
    keywords: persona.keywords,
    minWords: ctx.scale.audit.minWords,
    maxWords: ctx.scale.audit.maxWords,
  });
  writeTeacherData(ctx.paths.teacherData, store.examples.listByRun(runId));
  ctx.progress(total, total);
  ctx.log(`audit: kept ${summary.kept} of ${summary.total}; flagged ${JSON.stringify(summary.flagged)}`);
  if (summary.kept === 0) {
    throw new PipelineError(
      `the audit kept none of the ${summary.total} teacher answers (flags: ${JSON.stringify(summary.flagged)}); see ${ctx.paths.teacherData}`,
      { runId, flagged: summary.flagged },
    );
  }
}

export async function splitStep(studio: StudioServices, ctx: StepContext): Promise<void> {
  const { store } = studio;
  const runId = ctx.run.id;
  const counts = splitRun(store, runId, {
    seed: ctx.scale.generation.seed,
    valFraction: ctx.scale.valFraction,
  });
  if (counts.train === 0)
    throw new PipelineError('the split left no training examples', { runId, ...counts });
  const files = exportRunData(store, runId, ctx.paths.dir);
  ctx.progress(files.train + files.val, files.train + files.val);
  ctx.log(
    `split: ${files.train} train, ${files.val} val (held-out questions excluded) -> ${files.trainPath}`,
  );
}

export async function reportStep(_studio: StudioServices, _ctx: StepContext): Promise<void> {
  throw new PipelineError('the report step is not available yet (src-main/reports has not landed)');
}
