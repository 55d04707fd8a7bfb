import type { CheckpointRow } from '../../src-shared/contract';
import type { CheckpointRecord } from '../store';
import type { HandlerServices } from './context';
import { HandlerError } from './errors';
import { optionalString } from './params';
import type { Handlers } from './types';

type CheckpointChannels =
  'checkpoints:list' | 'checkpoints:promote' | 'checkpoints:rollback' | 'checkpoints:export';

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

function registryMissing(channel: string): never {
  throw new HandlerError(
    `${channel}: the checkpoint registry is not available in this build`,
    'not_available',
  );
}

export function checkpointHandlers(s: HandlerServices): Pick<Handlers, CheckpointChannels> {
  return {
    'checkpoints:list': async (params) => {
      const runId = optionalString(params ?? {}, 'runId');
      return s.store.checkpoints.list(runId ? { runId } : {}).map(toCheckpointRow);
    },
    'checkpoints:promote': async () => registryMissing('checkpoints:promote'),
    'checkpoints:rollback': async () => registryMissing('checkpoints:rollback'),
    'checkpoints:export': async () => registryMissing('checkpoints:export'),
  };
}
