/**
 * `character eval robustness <run>`: how the run's character holds (identity, break-character,
 * multi-turn), for base, teacher, student and each recipe stage, at chat's sampling settings.
 * Runs on any run with a trained checkpoint; stores the result with the run's latest evaluation.
 * With sampling flags (--temperature, --top-p, --max-tokens, --repetition-penalty, --seed) or
 * --models, it is a trial: its files are named for the settings (robustness-<tag>.json) and the
 * run's own figures stay as they were, so chat's defaults can be chosen by measurement.
 */
import { NotFoundError } from '../../core/errors';
import { runPaths } from '../../core/paths';
import { runRobustness, robustnessFiles } from '../../pipeline/steps/robustness';
import { robustnessDetail, robustnessTable } from '../../robustness/format';
import type { RobustnessSampling } from '../../../src-shared/robustness';
import { chatSampling } from '../../chat/service';
import { parseCommandArgs } from '../args';
import { SAMPLING_FLAGS, samplingOverrides } from '../sampling-flags';
import { CliUsageError, type CliContext } from '../context';

export async function robustnessCommand(args: string[], ctx: CliContext): Promise<number> {
  const { positionals, values } = parseCommandArgs('eval robustness', args, {
    ...SAMPLING_FLAGS,
    models: { type: 'string' },
  });
  const id = positionals[0];
  const overrides = samplingOverrides('eval robustness', values);
  if (overrides.noRepeatNgram !== undefined)
    throw new CliUsageError('eval robustness: --no-repeat-ngram is not one of its settings', 'eval');
  // Ranges checked as chat checks them; only the flags given are applied.
  chatSampling(overrides);
  const sampling: Partial<RobustnessSampling> = {
    ...(overrides.temperature !== undefined ? { temperature: overrides.temperature } : {}),
    ...(overrides.topP !== undefined ? { topP: overrides.topP } : {}),
    ...(overrides.maxTokens !== undefined ? { maxTokens: overrides.maxTokens } : {}),
    ...(overrides.repetitionPenalty !== undefined ? { repetitionPenalty: overrides.repetitionPenalty } : {}),
    ...(typeof overrides.seed === 'number' ? { seed: overrides.seed } : {}),
  };
  const models = values.models
    ?.split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  const tag = trialTag(sampling, models);
  if (!id) throw new CliUsageError('eval robustness: name a run id (see character runs)', 'eval');
  const studio = await ctx.open();
  const run = studio.store.runs.get(id);
  if (!run) throw new NotFoundError('run', id);
  await studio.store.owners.assertFree(run.id);
  const paths = runPaths(studio.dataDir, run.id);
  const summary = await runRobustness(studio, run, paths, {
    sampling,
    ...(models ? { models } : {}),
    tag,
    signal: ctx.abort.signal,
    progress: (done, total, message) =>
      ctx.progress.update({
        runId: run.id,
        step: 'evaluate',
        done,
        total,
        fraction: total ? done / total : 1,
        message,
      }),
  });
  ctx.progress.finish();
  const latest = studio.store.evaluations.latest(run.id);
  if (tag === null && latest && latest.checkpointId === summary.checkpointId)
    studio.store.evaluations.updateSummary(latest.id, { ...latest.summary, robustness: summary });
  ctx.result(summary);
  ctx.print(
    `robustness of ${run.id} (student ${summary.checkpointId}); the student sees ${summary.studentContext}`,
  );
  for (const line of [...robustnessTable(summary), '', ...robustnessDetail(summary)]) ctx.print(line);
  const files = robustnessFiles(paths, tag);
  ctx.print(tag ? `a trial (${tag}): ${files.summary}; the run's own figures are unchanged` : files.summary);
  ctx.print(`answers: ${files.answers}`);
  return 0;
}

/** A file-name tag for a trial's settings (null: chat's defaults, all models: the run's own). */
export function trialTag(
  sampling: Partial<RobustnessSampling>,
  models: readonly string[] | undefined,
): string | null {
  const parts: string[] = [];
  if (sampling.temperature !== undefined) parts.push(`t${sampling.temperature}`);
  if (sampling.topP !== undefined) parts.push(`p${sampling.topP}`);
  if (sampling.maxTokens !== undefined) parts.push(`max${sampling.maxTokens}`);
  if (sampling.repetitionPenalty !== undefined) parts.push(`rp${sampling.repetitionPenalty}`);
  if (sampling.seed !== undefined) parts.push(`seed${sampling.seed}`);
  if (models) parts.push(models.join('+'));
  return parts.length ? parts.join('-').replace(/[^A-Za-z0-9.+-]/g, '_') : null;
}
