/**
 * The stages of a character-recipe run that evaluation measures beside the final student: the
 * DPO adapter, the introspection SFT adapter and, in paper mode with merge, the merged one.
 * Read from the store alone, so the evaluate and robustness steps find them without reaching
 * up into the character recipe.
 */
import type { CheckpointRecord, Store } from '../store';
import type { StageCheckpoint } from './types';

/** The newest checkpoint of the run's newest job of `kind`. */
function lastOfJob(store: Store, runId: string, kind: 'dpo' | 'sft'): CheckpointRecord | null {
  const job = store.jobs.latestForRun(runId, kind);
  if (!job) return null;
  return (
    store.checkpoints
      .list({ runId })
      .filter((c) => c.jobId === job.id)
      .sort((a, b) => b.step - a.step)[0] ?? null
  );
}

/** [] for the other recipes; otherwise dpo, sft and (when the final checkpoint is one) merged. */
export function characterStages(store: Store, runId: string, final: CheckpointRecord): StageCheckpoint[] {
  const run = store.runs.get(runId);
  if (run?.config.recipe !== 'character') return [];
  const out: StageCheckpoint[] = [];
  for (const kind of ['dpo', 'sft'] as const) {
    const cp = lastOfJob(store, runId, kind);
    if (cp) out.push({ stage: kind, checkpointId: cp.id, adapterPath: cp.path });
  }
  if (final.lineage.parents?.length)
    out.push({ stage: 'merged', checkpointId: final.id, adapterPath: final.path });
  return out;
}
