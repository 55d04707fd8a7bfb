/**
 * `character serve-model [--checkpoint ID] [--port N] [--host H] [--api-key KEY] [--model-id ID]`:
 * a checkpoint (its run's student model + the LoRA adapter) behind the engine's OpenAI-compatible
 * server, until Ctrl-C. Without --checkpoint: the active checkpoint, else the newest, else the
 * base student model alone. Beyond loopback an API key is required: --api-key, else
 * CHARACTER_ENGINE_API_KEY, else one is generated and printed.
 */
import { randomBytes } from 'node:crypto';
import type { ModelSpec } from '../../../src-shared/engine-protocol';
import { modelSpecName, parseModelSpec } from '../../core/model-spec';
import { isLoopbackHost, startModelServer, API_KEY_ENV } from '../../engine/model-server';
import type { PipelineServices } from '../../pipeline/services';
import { MAX_PORT } from '../../core/limits';
import { parseCommandArgs } from '../args';
import { numberFlag } from '../number-flag';
import { type CommandFn } from '../context';

/** The port vLLM and most OpenAI-compatible servers default to. */
const DEFAULT_PORT = 8000;

export interface ServedModel {
  model: ModelSpec;
  adapter: string | null;
  /** What clients send as `model`: `<persona>:<checkpoint>`, or the base model's name. */
  modelId: string;
  checkpointId: string | null;
}

/** What to serve for a checkpoint id (null: the base student model with no adapter). */
export function servedModel(
  services: Pick<PipelineServices, 'store' | 'settings'>,
  checkpointId: string | null,
): ServedModel {
  const cp = checkpointId ? services.store.checkpoints.require(checkpointId) : null;
  if (!cp) {
    const model = services.settings.get('studentModel');
    return { model, adapter: null, modelId: modelSpecName(model), checkpointId: null };
  }
  const run = services.store.runs.get(cp.runId);
  const base = cp.lineage?.config?.baseModel;
  const model =
    run?.config.studentModel ?? (base ? parseModelSpec(base) : services.settings.get('studentModel'));
  const persona = cp.lineage?.personaId;
  return { model, adapter: cp.path, modelId: persona ? `${persona}:${cp.id}` : cp.id, checkpointId: cp.id };
}

export const serveModelCommand: CommandFn = async (args, ctx) => {
  const { values } = parseCommandArgs('serve-model', args, {
    checkpoint: { type: 'string', short: 'c' },
    port: { type: 'string', default: String(DEFAULT_PORT) },
    host: { type: 'string', default: '127.0.0.1' },
    'api-key': { type: 'string' },
    'model-id': { type: 'string' },
  });
  const port = numberFlag('serve-model', 'port', values.port ?? String(DEFAULT_PORT), {
    min: 0,
    max: MAX_PORT,
    integer: true,
  });
  const host = values.host ?? '127.0.0.1';
  let apiKey = values['api-key'] ?? process.env[API_KEY_ENV] ?? undefined;
  let generated = false;
  if (!isLoopbackHost(host) && !apiKey) {
    apiKey = randomBytes(24).toString('base64url');
    generated = true;
  }
  const studio = await ctx.open();
  const target = servedModel(studio, studio.registry.resolve(values.checkpoint ?? null));
  const modelId = values['model-id'] ?? target.modelId;
  ctx.note(
    `loading ${modelSpecName(target.model)}${target.adapter ? ` with checkpoint ${target.checkpointId}` : ' (no checkpoint)'}`,
  );
  const server = await startModelServer({
    model: target.model,
    ...(target.adapter ? { adapter: target.adapter } : {}),
    modelId,
    host,
    port,
    ...(apiKey ? { apiKey } : {}),
    onLog: (line) => {
      if (ctx.verbose) ctx.note(`[serve] ${line}`);
    },
  });
  ctx.result({
    url: server.url,
    model: server.model,
    apiKey: apiKey ?? null,
    checkpointId: target.checkpointId,
    maxModelLen: server.maxModelLen,
  });
  ctx.print(`OpenAI-compatible server: ${server.url}`);
  ctx.print(`model: ${server.model} (context ${server.maxModelLen} tokens)`);
  ctx.print(
    apiKey
      ? `API key${generated ? ' (generated)' : ''}: ${apiKey}  (send "Authorization: Bearer <key>")`
      : 'API key: none needed on loopback',
  );
  ctx.print('Ctrl-C stops the server.');
  const code = await Promise.race([
    server.exited,
    new Promise<'stopped'>((resolve) => {
      if (ctx.abort.signal.aborted) resolve('stopped');
      ctx.abort.signal.addEventListener('abort', () => resolve('stopped'), { once: true });
    }),
  ]);
  await server.close();
  return code === 'stopped' || code === 0 ? 0 : 1;
};
