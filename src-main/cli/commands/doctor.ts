/**
 * `character doctor [--repair] [--rebuild]`: checks the data folder's database (SQLite's
 * integrity check, runs on disk it does not index, backups); --repair restores the newest good
 * backup over a damaged, empty or missing database and indexes the run folders it lacks;
 * --rebuild starts a fresh database from the run folders alone. Works on a database the
 * studio refuses to open (it never opens the studio).
 */
import { diagnose, isHealthy, repair, type DoctorReport } from '../../doctor/doctor';
import { parseCommandArgs } from '../args';
import type { CommandFn, CliContext } from '../context';

function printReport(ctx: CliContext, r: DoctorReport): void {
  ctx.print(`database    ${r.database}: ${r.state}`);
  for (const p of r.problems.slice(0, 5)) ctx.print(`  ${p}`);
  ctx.print(
    `runs        ${r.runsInDatabase ?? '?'} in the database, ${r.runFolders} run folder(s)${r.notIndexed.length ? `, ${r.notIndexed.length} not indexed: ${r.notIndexed.slice(0, 5).join(', ')}${r.notIndexed.length > 5 ? ' …' : ''}` : ''}`,
  );
  if (r.behind.length > 0)
    ctx.print(
      `behind      ${r.behind.length} run(s) older than their run.json: ${r.behind.slice(0, 5).join(', ')}`,
    );
  for (const m of r.missingFiles.slice(0, 5)) ctx.print(`no files    checkpoint ${m}`);
  const newest = r.backups[0];
  ctx.print(
    `backups     ${r.backups.length}${newest ? `, newest ${newest.createdAt} (${newest.reason}): ${newest.path}` : ''}`,
  );
}

export const doctorCommand: CommandFn = async (args, ctx) => {
  const { values } = parseCommandArgs('doctor', args, {
    repair: { type: 'boolean' },
    rebuild: { type: 'boolean' },
  });
  if (values.repair || values.rebuild) {
    const r = repair(ctx.dataDir, { rebuild: values.rebuild === true });
    ctx.result(r);
    for (const a of r.actions) ctx.print(`- ${a}`);
    printReport(ctx, r);
    return isHealthy(r) ? 0 : 1;
  }
  const r = diagnose(ctx.dataDir);
  ctx.result(r);
  printReport(ctx, r);
  for (const a of r.actions) ctx.print(`to fix: ${a}`);
  // No database where nothing was ever saved is a fresh data folder, not a problem.
  return isHealthy(r) ? 0 : 1;
};
