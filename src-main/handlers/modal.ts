/** checkpoints:deployModal: a Modal app for a checkpoint (registry/modal-deploy.ts). */
import { InvalidParamsError } from '../core/errors';
import { deployToModal } from '../registry/modal-deploy';
import { isModalGpu } from '../../src-shared/modal-gpus';
import type { HandlerServices } from './context';
import { optionalString, requireString } from './params';
import type { Handlers } from './types';

export function modalHandlers(s: HandlerServices): Pick<Handlers, 'checkpoints:deployModal'> {
  return {
    'checkpoints:deployModal': async (params) => {
      const id = requireString(params, 'id');
      const gpu = requireString(params, 'gpu');
      if (!isModalGpu(gpu))
        throw new InvalidParamsError('"gpu" must be one of T4, L4, A10G, A100, H100', 'gpu');
      const outputDir = optionalString(params, 'outputDir');
      const d = await deployToModal(s, id, { gpu, ...(outputDir ? { outputDir } : {}) });
      return {
        dir: d.dir,
        appFile: d.appFile,
        gpu: d.gpu,
        modalGpu: d.modalGpu,
        servedModelName: d.servedModelName,
        commands: d.commands,
        usdPerHour: d.usdPerHour,
        priceNote: d.priceNote,
      };
    },
  };
}
