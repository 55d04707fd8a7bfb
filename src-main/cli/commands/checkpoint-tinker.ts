/** `character checkpoint list --tinker` and `character checkpoint pull <id|tinker://...>`. */
import { listTinkerCheckpoints, pullTinkerCheckpoint } from '../../registry/tinker';
import type { Studio } from '../../studio/studio';
import type { CliContext } from '../context';

/** What the Tinker service holds for this key, marked with the local checkpoints it became. */
export async function listTinker(studio: Studio, ctx: CliContext): Promise<number> {
  const list = await listTinkerCheckpoints(studio, ctx.abort.signal);
  ctx.result({ checkpoints: list });
  if (list.length === 0) ctx.print('no checkpoints on Tinker for this API key');
  for (const c of list) {
    const step = c.metadata.step ? `step ${c.metadata.step.padStart(5)}` : '          ';
    const local = c.registeredId ? `registered ${c.registeredId}` : 'not registered here';
    const pulled = c.pulledId ? `, pulled as ${c.pulledId}` : '';
    ctx.print(`${c.tinker_path}  ${c.type.padEnd(8)} ${step}  ${c.time}  ${local}${pulled}`);
  }
  return 0;
}

/** Download a registered Tinker checkpoint into the local registry as an adapter folder. */
export async function pullTinker(studio: Studio, ref: string, ctx: CliContext): Promise<number> {
  const cp = await pullTinkerCheckpoint(studio, ref, ctx.abort.signal);
  ctx.result(cp);
  ctx.print(`pulled ${cp.lineage.pulledFrom ?? ref} as ${cp.id}: ${cp.path}`);
  ctx.print('  chat, review and export use it like any local checkpoint (character checkpoint use|export)');
  return 0;
}
