/**
 * Entry of `npm run bench` (was `character bench` before the bench left product code): runs
 * test/bench/command.ts with the CLI's own context, so it opens the same data folder
 * (CHARACTER_STUDIO_HOME) and prints the same way; `--json` and `--verbose` as for the CLI.
 */
import { CliContext } from '../../src-main/cli/context';
import { formatError } from '../../src-main/cli/format-error';
import { benchCommand } from './command';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const verbose = argv.includes('--verbose');
const args = argv.filter((a) => a !== '--json' && a !== '--verbose');
const ctx = new CliContext({ stdout: process.stdout, stderr: process.stderr }, json, verbose);
let code = 1;
try {
  code = await benchCommand(args, ctx);
} catch (error) {
  ctx.progress.finish();
  process.stderr.write(`${formatError(error, verbose, ctx.dataDir)}\n`);
} finally {
  await ctx.close();
}
// Exit explicitly, as the CLI does: a stray handle must not keep a finished bench alive.
process.exit(code);
