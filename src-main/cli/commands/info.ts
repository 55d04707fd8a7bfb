/** `character info`: engine health, data folder, settings (keys redacted), runs. */
import { redactSettings } from '../../core/settings';
import { describeModel } from '../../core/model-spec';
import { databasePath, engineLogPath } from '../../core/paths';
import type { HealthResult } from '../../../src-shared/engine-protocol';
import type { CliContext } from '../context';
import { parseCommandArgs } from '../args';
import { errorMessage } from '../../core/errors';

export async function infoCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('info', args, { 'no-engine': { type: 'boolean' } });
  const studio = await ctx.open();
  const settings = redactSettings(studio.settings.all());
  let engine: Record<string, unknown> | { error: string };
  if (values['no-engine']) {
    engine = { skipped: true };
  } else {
    try {
      engine = { ...(await studio.engine.health({ timeoutMs: 120_000 })) };
    } catch (error) {
      engine = { error: errorMessage(error) };
    }
  }
  const runs = studio.store.runs.list();
  const checkpoints = studio.store.checkpoints.list();
  const info = {
    dataDir: studio.dataDir,
    database: databasePath(studio.dataDir),
    engineLog: engineLogPath(studio.dataDir),
    settings,
    engine,
    runs: runs.map((r) => ({
      id: r.id,
      persona: r.personaId,
      scale: r.scale,
      status: r.status,
      step: r.step,
      error: r.error,
    })),
    checkpoints: checkpoints.length,
    activeCheckpoint: studio.registry.active()?.id ?? null,
  };
  ctx.result(info);
  ctx.print(`data folder   ${info.dataDir}`);
  ctx.print(`database      ${info.database}`);
  ctx.print(`teacher       ${describeModel(settings.teacherModel)} (${settings.teacherProvider})`);
  ctx.print(`student       ${describeModel(settings.studentModel)}`);
  if (settings.openai)
    ctx.print(
      `endpoint      ${settings.openai.baseUrl} model ${settings.openai.model} key ${settings.openai.apiKey}`,
    );
  if ('error' in engine)
    ctx.print(`engine        NOT READY: ${String(engine.error)} (log: ${info.engineLog})`);
  else if ('engine_version' in engine) {
    const alloc = (engine as Partial<HealthResult>).allocator;
    const malloc = alloc
      ? alloc.tuned
        ? ', malloc keeps freed memory'
        : `, malloc default: ${alloc.reason}`
      : '';
    ctx.print(
      `engine        ${String(engine.engine_version)} python ${String(engine.python)} on ${String(engine.device)} (${String(engine.dtype)}, ${String(engine.threads)} threads${malloc})`,
    );
  }
  ctx.print(
    `runs          ${runs.length}; checkpoints ${checkpoints.length}; active ${info.activeCheckpoint ?? 'none'}`,
  );
  for (const r of runs.slice(0, 10)) {
    ctx.print(`  ${r.id}  ${r.status.padEnd(9)} ${r.step ?? ''}${r.error ? `  error: ${r.error}` : ''}`);
  }
  return 'error' in engine ? 1 : 0;
}
