/**
 * `character review list [<run>]` (every run's rating and pairwise A/B sheets, or one run's,
 * newest first, with how many items are rated or judged) and `character review export <sheet>`
 * (manual_review.csv and .txt, or pairwise_review.csv for an A/B sheet, beside the run's other
 * reports; RESULTS_REPORT.md's review section is brought up to date).
 */
import { runPaths } from '../../core/paths';
import { refreshReviewSection } from '../../reports';
import {
  exportPairwise,
  exportReview,
  getPairwiseSheet,
  getReviewSheet,
  listPairwiseSheets,
  listReviewSheets,
} from '../../review';
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
    const pairwise = runIds.flatMap((id) => listPairwiseSheets(studio.store, id));
    ctx.result([...sheets, ...pairwise.map((p) => ({ ...p, kind: 'pairwise' as const }))]);
    if (sheets.length + pairwise.length === 0)
      ctx.print('no review sheets yet: create one on the Review page (character serve)');
    for (const s of sheets)
      ctx.print(
        `${s.id}  ${s.runId}  ${s.blind ? (s.unblinded ? 'blind, un-blinded' : 'blind') : 'open'}  ${s.rated}/${s.total} rated  ${s.createdAt}`,
      );
    for (const p of pairwise)
      ctx.print(
        `${p.id}  ${p.runId}  A/B ${p.unblinded ? 'un-blinded' : 'blind'}  ${p.judged}/${p.total} judged  ${p.createdAt}`,
      );
    return 0;
  }
  if (sub === 'export') {
    if (!target) throw new CliUsageError('review export: name a sheet (see character review list)', 'review');
    if (studio.store.pairwise.sheet(target)) {
      const sheet = getPairwiseSheet(studio.store, target);
      const paths = runPaths(studio.dataDir, sheet.runId);
      const { csvPath } = exportPairwise(studio.store, sheet.id, paths.dir);
      const reportPath = refreshReviewSection(studio.store, sheet.runId, paths.resultsReport);
      ctx.result({ csvPath, reportPath });
      ctx.print(`wrote ${csvPath}${reportPath ? `\nupdated ${reportPath}` : ''}`);
      return 0;
    }
    const sheet = getReviewSheet(studio.store, target);
    const paths = runPaths(studio.dataDir, sheet.runId);
    const written = exportReview(studio.store, sheet.id, paths.dir);
    const reportPath = refreshReviewSection(studio.store, sheet.runId, paths.resultsReport);
    ctx.result(written);
    ctx.print(
      `wrote ${written.csvPath}\nwrote ${written.txtPath}${reportPath ? `\nupdated ${reportPath}` : ''}`,
    );
    return 0;
  }
  throw new CliUsageError(`review: unknown subcommand "${sub}": use list [run] or export <sheet>`, 'review');
};
