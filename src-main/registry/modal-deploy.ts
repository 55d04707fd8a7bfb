/**
 * A checkpoint deployed to Modal, as far as this machine goes: the checkpoint exported with its
 * merged model (exportCheckpoint), then the engine's export_modal writes modal_app.py beside it
 * (vLLM behind an OpenAI-compatible endpoint on the chosen GPU) and the commands that deploy it.
 * Nothing reaches Modal from here: the user runs the commands. Shared by
 * `character checkpoint deploy --modal` and the checkpoints:deployModal channel.
 */
import { join } from 'node:path';
import { MODAL_GPUS, MODAL_PRICE_NOTE, isModalGpu, type ModalGpu } from '../../src-shared/modal-gpus';
import { InvalidParamsError, NotFoundError } from '../core/errors';
import { exportCheckpoint, type ExportServices } from './export';

export interface ModalDeployOptions {
  gpu: ModalGpu;
  /** Absolute; default <dataDir>/exports/<checkpoint id>-modal (replaced on each deploy). */
  outputDir?: string;
  overwrite?: boolean;
  signal?: AbortSignal;
}

export interface ModalDeployment {
  dir: string;
  appFile: string;
  appName: string;
  gpu: ModalGpu;
  modalGpu: string;
  servedModelName: string;
  mergedDir: string;
  commands: string[];
  usdPerHour: number;
  priceNote: string;
}

/** Modal app names allow letters, digits, '-', '_' and '.', at most 64. */
export function modalAppName(personaId: string, checkpointId: string): string {
  const clean = (s: string): string =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '');
  return `character-${clean(personaId) || 'student'}-${clean(checkpointId)}`.slice(0, 64).replace(/-+$/, '');
}

export async function deployToModal(
  s: ExportServices,
  id: string,
  opts: ModalDeployOptions,
): Promise<ModalDeployment> {
  if (!isModalGpu(opts.gpu))
    throw new InvalidParamsError(`"gpu" must be one of ${MODAL_GPUS.map((g) => g.id).join(', ')}`, 'gpu');
  const cp = s.store.checkpoints.get(id);
  if (!cp) throw new NotFoundError('checkpoint', id);
  const usingDefault = opts.outputDir === undefined;
  const exported = await exportCheckpoint(s, id, {
    outputDir: opts.outputDir ?? join(s.dataDir, 'exports', `${cp.id}-modal`),
    merged: true,
    // The default folder is this deployment's own: a new deploy replaces it.
    overwrite: usingDefault || opts.overwrite === true,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const served = cp.lineage.personaId.toLowerCase().replace(/[^a-z0-9._-]+/g, '-') || 'student';
  const app = await s.engine.call(
    'export_modal',
    {
      output_dir: exported.dir,
      gpu: opts.gpu,
      app_name: modalAppName(cp.lineage.personaId, cp.id),
      served_model_name: served,
    },
    opts.signal ? { signal: opts.signal } : {},
  );
  const price = MODAL_GPUS.find((g) => g.id === opts.gpu);
  return {
    dir: exported.dir,
    appFile: app.app_file,
    appName: app.app_name,
    gpu: opts.gpu,
    modalGpu: app.modal_gpu,
    servedModelName: app.served_model_name,
    mergedDir: app.merged_dir,
    commands: app.commands,
    usdPerHour: price ? price.usdPerHour : Number.NaN,
    priceNote: MODAL_PRICE_NOTE,
  };
}
