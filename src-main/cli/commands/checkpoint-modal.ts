/** `character checkpoint deploy <id> --modal [--gpu T4|L4|A10G|A100|H100] [--out DIR]`. */
import { resolve } from 'node:path';
import { MODAL_GPUS, isModalGpu } from '../../../src-shared/modal-gpus';
import { deployToModal } from '../../registry/modal-deploy';
import type { Studio } from '../../studio/studio';
import { CliUsageError, type CliContext } from '../context';

const USAGE = `checkpoint deploy <id> --modal [--gpu ${MODAL_GPUS.map((g) => g.id).join('|')}] [--out DIR] [--overwrite]`;

export async function deployModal(
  studio: Studio,
  id: string | undefined,
  values: { modal?: boolean; gpu?: string; out?: string; overwrite?: boolean },
  ctx: CliContext,
): Promise<number> {
  if (!id || values.modal !== true)
    throw new CliUsageError(`${USAGE}: Modal is the one deployment target (name it with --modal)`);
  const gpu = values.gpu ?? 'L4';
  if (!isModalGpu(gpu))
    throw new CliUsageError(`--gpu must be one of ${MODAL_GPUS.map((g) => g.id).join(', ')}`);
  const d = await deployToModal(studio, id, {
    gpu,
    ...(values.out ? { outputDir: resolve(values.out) } : {}),
    overwrite: values.overwrite === true,
    signal: ctx.abort.signal,
  });
  ctx.result(d);
  ctx.print(
    `wrote ${d.appFile}: vLLM serving ${d.mergedDir} as "${d.servedModelName}" on a Modal ${d.modalGpu}`,
  );
  ctx.print(`  about $${d.usdPerHour.toFixed(2)}/hour while it runs (${d.priceNote})`);
  ctx.print('  to deploy (needs `pip install modal` and `modal setup`; not run from here):');
  for (const c of d.commands) ctx.print(`    ${c}`);
  ctx.print('  then POST <the printed URL>/v1/chat/completions with the key as bearer token');
  return 0;
}
