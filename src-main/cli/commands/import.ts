/**
 * `character import-characterllm <file> --character Beethoven [--out FILE]`: the character's
 * question -> answer pairs from a local Character-LLM file (prompted JSONL or generated JSON),
 * written as chat JSONL rows ({"messages": [user, assistant]}, no system prompt) ready to train
 * on or to seed questions.
 */
import { join } from 'node:path';
import { toChatRow, writeJsonl } from '../../datasets';
import { importCharacterLlm } from '../../questions/character-llm';
import { slugify } from '../../personas';
import { CliUsageError, type CommandFn } from '../context';
import { parseCommandArgs } from '../args';

export const importCommand: CommandFn = async (args, ctx) => {
  const { values, positionals } = parseCommandArgs('import-characterllm', args, {
    character: { type: 'string' },
    out: { type: 'string' },
  });
  const file = positionals[0];
  if (!file) throw new CliUsageError('import-characterllm: give the Character-LLM file (.jsonl or .json)');
  if (!values.character)
    throw new CliUsageError('import-characterllm: name the character, e.g. --character Beethoven');
  const { pairs, stats } = importCharacterLlm(file, values.character);
  const out = values.out ?? join(ctx.dataDir, 'imports', `characterllm-${slugify(values.character)}.jsonl`);
  writeJsonl(
    out,
    pairs.map((p) => ({ ...toChatRow(p.question, p.answer), scene: p.scene, location: p.location })),
  );
  ctx.result({ out, stats });
  ctx.print(
    `${stats.pairs} pairs of ${values.character} from ${stats.scenes} of ${stats.scenesTotal} scenes (${stats.format} format) -> ${out}`,
  );
  ctx.print(
    `mean question ${stats.meanQuestionWords.toFixed(1)} words, mean answer ${stats.meanAnswerWords.toFixed(1)} words; ${stats.skipped.length} entries skipped`,
  );
  for (const s of stats.skipped.slice(0, 5)) ctx.note(`skipped ${s.at}: ${s.reason}`);
  return stats.pairs > 0 ? 0 : 1;
};
