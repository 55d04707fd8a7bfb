/**
 * `character serve [--port N] [--no-build]`: the app on a loopback URL over the data folder
 * (CHARACTER_STUDIO_HOME), until Ctrl-C.
 */
import { MAX_PORT } from '../../core/limits';
import { type CommandFn } from '../context';
import { numberFlag } from '../number-flag';
import { parseCommandArgs } from '../args';
import { serveApp } from '../../bridge/serve';

export const serveCommand: CommandFn = async (args, ctx) => {
  const { values } = parseCommandArgs('serve', args, {
    port: { type: 'string' },
    'no-build': { type: 'boolean' },
  });
  const port =
    values.port !== undefined
      ? numberFlag('serve', 'port', values.port, { min: 0, max: MAX_PORT, integer: true })
      : undefined;
  const studio = await ctx.open();
  const app = await serveApp({
    studio,
    ...(port !== undefined ? { port } : {}),
    build: !values['no-build'],
    log: (line) => ctx.note(line),
  });
  ctx.result({ url: app.url });
  ctx.print(`Character Studio is served at ${app.url}`);
  ctx.print('Open that address in a browser (it carries the session token). Ctrl-C stops the server.');
  await new Promise<void>((resolve) => {
    if (ctx.abort.signal.aborted) resolve();
    ctx.abort.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await app.close();
  return 0;
};
