import { isAbsolute, join, resolve } from 'node:path';
import type { CheckpointRow } from '../../src-shared/contract';
import { NotFoundError } from '../core/errors';
import { parseModelSpec } from '../core/model-spec';
import type { CheckpointRecord } from '../store';
import type { HandlerServices } from './context';
import { InvalidParamsError } from '../core/errors';
import { optionalString, requireString } from './params';
import type { Handlers } from './types';

type CheckpointChannels =
  'checkpoints:list' | 'checkpoints:promote' | 'checkpoints:rollback' | 'checkpoints:export';

/** The contract's CheckpointRow: a record without store-only fields (job id, promotion time). */
export function toCheckpointRow(c: CheckpointRecord): CheckpointRow {
  return {
    id: c.id,
    runId: c.runId,
    step: c.step,
    path: c.path,
    createdAt: c.createdAt,
    state: c.state,
    metrics: c.metrics,
    lineage: c.lineage,
  };
}

export function checkpointHandlers(s: HandlerServices): Pick<Handlers, CheckpointChannels> {
  const reg = s.registry;
  return {
    'checkpoints:list': async (params) => {
      const runId = params ? optionalString(params, 'runId') : undefined;
      return reg.list(runId ? { runId } : {}).map(toCheckpointRow);
    },
    'checkpoints:promote': async (params) => {
      const id = requireString(params, 'id');
      if (!s.store.checkpoints.get(id)) throw new NotFoundError('checkpoint', id);
      return toCheckpointRow(reg.promote(id));
    },
    'checkpoints:rollback': async () => {
      const previous = reg.rollback();
      return previous ? toCheckpointRow(previous) : null;
    },
    // The PEFT adapter folder with a model card and a deploy example, written by the engine.
    'checkpoints:export': async (params) => {
      const id = requireString(params, 'id');
      const cp = s.store.checkpoints.get(id);
      if (!cp) throw new NotFoundError('checkpoint', id);
      const requested = optionalString(params, 'outputDir');
      if (requested !== undefined && !isAbsolute(requested)) {
        throw new InvalidParamsError('"outputDir" must be an absolute path', 'outputDir');
      }
      const outputDir = requested ? resolve(requested) : join(s.dataDir, 'exports', cp.id);
      const run = s.store.runs.get(cp.runId);
      const model = run ? run.config.studentModel : parseModelSpec(cp.lineage.config.baseModel || 'default');
      const evaluation = s.store.evaluations.latest(cp.runId);
      const result = await s.engine.call('export_adapter', {
        model,
        adapter: cp.path,
        output_dir: outputDir,
        card: {
          title: `${run ? run.config.personaName : cp.lineage.personaId} (Character Studio adapter)`,
          description: `LoRA adapter distilled from the "${cp.lineage.personaId}" constitution (v${cp.lineage.personaVersion}): the student answers in character without the system prompt.`,
          data: {
            persona: `${cp.lineage.personaId} v${cp.lineage.personaVersion}`,
            run: cp.runId,
            checkpoint: cp.id,
            step: cp.step,
          },
          metrics: {
            ...cp.metrics,
            ...(evaluation && evaluation.checkpointId === cp.id
              ? {
                  inCharacterStudent: evaluation.summary.inCharacterShare.student,
                  inCharacterBase: evaluation.summary.inCharacterShare.base,
                  gatePassed: evaluation.summary.gate.passed,
                }
              : {}),
          },
        },
      });
      return { dir: result.output_dir, files: result.files };
    },
  };
}
