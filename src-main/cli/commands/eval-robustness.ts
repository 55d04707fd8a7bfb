/**
 * `character eval robustness <run>`: how the run's character holds (identity, break-character,
 * multi-turn), for base, teacher, student and each recipe stage, at chat's sampling settings.
 * Runs on any run with a trained checkpoint; stores the result with the run's latest evaluation.
 */
import { NotFoundError } from '../../core/errors';
import { runPaths } from '../../core/paths';
import { runRobustness, robustnessFiles } from '../../pipeline/steps/robustness';
import { robustnessDetail, robustnessTable } from '../../robustness/format';
import { parseCommandArgs } from '../args';
import { CliUsageError, type CliContext } from '../context';

export async function robustnessCommand(args: string[], ctx: CliContext): Promise<number> {
  const { positionals } = parseCommandArgs('eval robustness', args, {});
  const id = positionals[0];
  if (!id) throw new CliUsageError('eval robustness: name a run id (see character runs)', 'eval');
  const studio = await ctx.open();
  const run = studio.store.runs.get(id);
  if (!run) throw new NotFoundError('run', id);
  await studio.store.owners.assertFree(run.id);
  const paths = runPaths(studio.dataDir, run.id);
  const summary = await runRobustness(studio, run, paths, {
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
  if (latest && latest.checkpointId === summary.checkpointId)
    studio.store.evaluations.updateSummary(latest.id, { ...latest.summary, robustness: summary });
  ctx.result(summary);
  ctx.print(
    `robustness of ${run.id} (student ${summary.checkpointId}); the student sees ${summary.studentContext}`,
  );
  for (const line of [...robustnessTable(summary), '', ...robustnessDetail(summary)]) ctx.print(line);
  ctx.print(`answers: ${robustnessFiles(paths).answers}`);
  return 0;
}
