/**
 * `character review list [<run>]` (every run's sheets, or one run's, newest first, with how many
 * items are rated) and `character review export <sheet>` (manual_review.csv and .txt beside the
 * run's other reports).
 */
import { runPaths } from '../../core/paths';
import { exportReview, getReviewSheet, listReviewSheets } from '../../review';
import { parseCommandArgs } from '../args';
import { CliUsageError, type CommandFn } from '../context';

export const reviewCommand: CommandFn = async (args, ctx) => {
  const { positionals } = parseCommandArgs('review', args, {});
  const [sub, target] = positionals;
  const studio = await ctx.open();
  if (sub === 'list' || sub === undefined) {
    const runIds = target
      ? [studio.store.runs.require(target).id]
      : studio.store.runs.summaries().map((r) => r.id);
    const sheets = runIds.flatMap((id) => listReviewSheets(studio.store, id));
    ctx.result(sheets);
    if (sheets.length === 0)
      ctx.print('no review sheets yet: create one on the Review page (character serve)');
    for (const s of sheets)
      ctx.print(
        `${s.id}  ${s.runId}  ${s.blind ? (s.unblinded ? 'blind, un-blinded' : 'blind') : 'open'}  ${s.rated}/${s.total} rated  ${s.createdAt}`,
      );
    return 0;
  }
  if (sub === 'export') {
    if (!target) throw new CliUsageError('review export: name a sheet (see character review list)', 'review');
    const sheet = getReviewSheet(studio.store, target);
    const written = exportReview(studio.store, sheet.id, runPaths(studio.dataDir, sheet.runId).dir);
    ctx.result(written);
    ctx.print(`wrote ${written.csvPath}\nwrote ${written.txtPath}`);
    return 0;
  }
  throw new CliUsageError(`review: unknown subcommand "${sub}": use list [run] or export <sheet>`, 'review');
};
