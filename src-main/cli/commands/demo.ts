/**
 * `character demo`: the whole pipeline at mini scale on the embedded SmolLM2 (Beethoven), the
 * report path and key numbers, then the app on a loopback URL. Electron's binary cannot be
 * downloaded on this kind of machine, so the app is served to a browser instead.
 * `--no-serve` (or CI=1) ends after the report.
 */
import { MAX_PORT } from '../../core/limits';
import { numberFlag } from '../number-flag';
import { isScale } from '../../core/scales';
import { createRun } from '../../runs/create-run';
import { parseModelSpec } from '../../core/model-spec';
import { CliUsageError, type CommandFn } from '../context';
import { parseCommandArgs } from '../args';
import { keyNumbers, printEstimates, runOutcome } from './pipeline';
import { errorText } from '../../core/errors';

export const demoCommand: CommandFn = async (args, ctx) => {
  const { values } = parseCommandArgs('demo', args, {
    'no-serve': { type: 'boolean' },
    persona: { type: 'string', default: 'beethoven' },
    scale: { type: 'string', default: 'mini' },
    model: { type: 'string', default: 'default' },
    port: { type: 'string' },
  });
  const scale = values.scale ?? 'mini';
  if (!isScale(scale)) throw new CliUsageError(`demo: unknown scale "${scale}"`);
  const serve = !values['no-serve'] && !process.env.CI;
  const started = performance.now();
  const studio = await ctx.open();
  const model = parseModelSpec(values.model ?? 'default');
  const run0 = createRun(studio, {
    personaId: values.persona ?? 'beethoven',
    scale,
    studentModel: model,
    teacherModel: model,
  });
  ctx.note(
    `demo: ${run0.id} — ${scale} pipeline for ${run0.personaId} on ${values.model}; teacher WITH the constitution, student WITHOUT it`,
  );
  printEstimates(studio, run0, ctx);
  const run = await studio.runner.run(run0.id, { signal: ctx.abort.signal });
  const outcome = runOutcome(studio, run, (performance.now() - started) / 1000);
  for (const line of keyNumbers(outcome)) ctx.print(line);
  if (!serve) {
    ctx.result(outcome);
    return run.status === 'completed' ? 0 : 1;
  }
  let serveApp: typeof import('../../bridge/serve').serveApp;
  try {
    serveApp = (await import('../../bridge/serve')).serveApp;
  } catch (error) {
    ctx.note(`the app server (src-main/bridge/serve.ts) is not available: ${errorText(error)}`);
    ctx.result(outcome);
    return 0;
  }
  const app = await serveApp({
    studio,
    ...(values.port
      ? { port: numberFlag('demo', 'port', values.port, { min: 0, max: MAX_PORT, integer: true }) }
      : {}),
    log: (line) => ctx.note(line),
  });
  ctx.result({ ...outcome, url: app.url });
  ctx.print('');
  ctx.print(`Character Studio is served at ${app.url}`);
  ctx.print(
    'Electron cannot start on this machine (its binary cannot be downloaded here), so open that URL in a browser.',
  );
  ctx.print('Ctrl-C stops the server.');
  await new Promise<void>((resolve) => {
    if (ctx.abort.signal.aborted) resolve();
    ctx.abort.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await app.close();
  return 0;
};
