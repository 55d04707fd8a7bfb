/** `character distill collect`: approved good pairs (score >= 0.7) -> distill_dataset.jsonl. */
import { collectGoodPairs, GOOD_PAIR_MIN_SCORE } from '../../pipeline/recipes/good-pairs';
import { CliUsageError, type CommandFn } from '../context';
import { parseCommandArgs } from '../args';

export const distillCommand: CommandFn = async (args, ctx) => {
  const { values, positionals } = parseCommandArgs('distill', args, { 'min-score': { type: 'string' } });
  if (positionals[0] !== 'collect')
    throw new CliUsageError('distill: use `character distill collect [--min-score 0.7]`');
  const min = values['min-score'] !== undefined ? Number(values['min-score']) : GOOD_PAIR_MIN_SCORE;
  if (!(min >= 0 && min <= 1))
    throw new CliUsageError('distill collect: --min-score must be between 0 and 1');
  const studio = await ctx.open();
  const r = collectGoodPairs(studio.store, studio.dataDir, min);
  ctx.result(r);
  ctx.print(
    `collected ${r.fromEvaluations} pairs from evaluations and ${r.fromReviews} from reviews (${r.added} new); ${r.approved} approved pairs with score >= ${min} -> ${r.datasetPath}`,
  );
  if (r.approved === 0)
    ctx.note('no approved pairs yet: rate answers 4-5 on every dimension in a review to approve them');
  return 0;
};
