/**
 * The stages of a character-recipe run that evaluation measures beside the final student: the
 * DPO adapter, the introspection SFT adapter and, in paper mode with merge, the merged one.
 */
import type { StageCheckpoint } from '../../evaluation/types';
import type { CheckpointRecord } from '../../store';
import type { PipelineServices } from '../services';

/** The newest checkpoint of the run's newest job of `kind`. */
function lastOfJob(studio: PipelineServices, runId: string, kind: 'dpo' | 'sft'): CheckpointRecord | null {
  const job = studio.store.jobs.latestForRun(runId, kind);
  if (!job) return null;
  return (
    studio.store.checkpoints
      .list({ runId })
      .filter((c) => c.jobId === job.id)
      .sort((a, b) => b.step - a.step)[0] ?? null
  );
}

/** [] for the other recipes; otherwise dpo, sft and (when the final checkpoint is one) merged. */
export function characterStages(
  studio: PipelineServices,
  runId: string,
  final: CheckpointRecord,
): StageCheckpoint[] {
  const run = studio.store.runs.get(runId);
  if (run?.config.recipe !== 'character') return [];
  const out: StageCheckpoint[] = [];
  for (const kind of ['dpo', 'sft'] as const) {
    const cp = lastOfJob(studio, runId, kind);
    if (cp) out.push({ stage: kind, checkpointId: cp.id, adapterPath: cp.path });
  }
  if (final.lineage.parents?.length)
    out.push({ stage: 'merged', checkpointId: final.id, adapterPath: final.path });
  return out;
}
