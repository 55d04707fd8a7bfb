import type { CheckpointListRow, CheckpointRow } from '../../src-shared/contract';
import { NotFoundError } from '../core/errors';
import type { Registry } from '../registry';
import { exportCheckpoint } from '../registry/export';
import type { CheckpointRecord } from '../store';
import type { HandlerServices } from './context';
import { optionalString, requireBoolean, requireString } from './params';
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

/** A row with the registry's current/active flags, read at answer time so every caller agrees. */
export function toCheckpointListRow(c: CheckpointRecord, reg: Registry): CheckpointListRow {
  return { ...toCheckpointRow(c), current: reg.current()?.id === c.id, active: reg.active()?.id === c.id };
}

/** An optional boolean parameter, false when absent. */
function flag(params: unknown, name: string): boolean {
  const value = (params as Record<string, unknown> | null)?.[name];
  return value === undefined || value === null ? false : requireBoolean(params, name);
}

export function checkpointHandlers(s: HandlerServices): Pick<Handlers, CheckpointChannels> {
  const reg = s.registry;
  return {
    'checkpoints:list': async (params) => {
      const runId = params ? optionalString(params, 'runId') : undefined;
      const currentId = reg.current()?.id ?? null;
      const activeId = reg.active()?.id ?? null;
      return reg
        .list(runId ? { runId } : {})
        .map((c) => ({ ...toCheckpointRow(c), current: c.id === currentId, active: c.id === activeId }));
    },
    'checkpoints:promote': async (params) => {
      const id = requireString(params, 'id');
      if (!s.store.checkpoints.get(id)) throw new NotFoundError('checkpoint', id);
      return toCheckpointListRow(reg.promote(id), reg);
    },
    'checkpoints:rollback': async () => {
      const previous = reg.rollback();
      return previous ? toCheckpointListRow(previous, reg) : null;
    },
    // The PEFT adapter with card, deploy example, GGUF LoRA and Modelfile, written by the engine.
    'checkpoints:export': async (params) => {
      const id = requireString(params, 'id');
      const merged = flag(params, 'merged');
      const overwrite = flag(params, 'overwrite');
      const outputDir = optionalString(params, 'outputDir');
      const result = await exportCheckpoint(s, id, { outputDir, merged, overwrite });
      return {
        dir: result.dir,
        files: result.files,
        mergedDir: result.mergedDir,
        modelfile: result.modelfile,
      };
    },
  };
}
