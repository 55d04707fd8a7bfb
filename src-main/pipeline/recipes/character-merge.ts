/**
 * Paper mode's last stage: the DPO adapter and the introspection SFT adapter (trained apart,
 * both from the base) merged by the engine into ONE adapter whose update is exactly
 * w_dpo x DPO's + w_sft x SFT's (engine/character_engine/training/merge.py), registered as the
 * run's final checkpoint with both parents in its lineage.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CharacterRecipeOptions, LineageParent } from '../../../src-shared/character';
import type { CheckpointRecord } from '../../store';
import type { StepContext } from '../runner';
import type { PipelineServices } from '../services';

export const MERGED_DIR = 'merged-adapter';

interface MergeLineageFile {
  parents: { path: string; weight: number }[];
}

/** True when `dir` already holds the merge of exactly these parents (a resumed run). */
export function alreadyMerged(dir: string, parts: readonly { path: string; weight: number }[]): boolean {
  const file = join(dir, 'merge.json');
  if (!existsSync(file) || !existsSync(join(dir, 'adapter_model.safetensors'))) return false;
  try {
    const lineage = JSON.parse(readFileSync(file, 'utf8')) as MergeLineageFile;
    return (
      lineage.parents.length === parts.length &&
      lineage.parents.every((p, i) => p.path === parts[i]?.path && p.weight === parts[i]?.weight)
    );
  } catch {
    return false;
  }
}

export async function mergeStage(
  studio: PipelineServices,
  ctx: StepContext,
  dpo: CheckpointRecord,
  sft: CheckpointRecord,
  weights: CharacterRecipeOptions['mergeWeights'],
): Promise<CheckpointRecord> {
  const { store, engine, events } = studio;
  const dir = join(ctx.paths.dir, MERGED_DIR);
  const parts = [
    { path: dpo.path, weight: weights.dpo },
    { path: sft.path, weight: weights.sft },
  ];
  let rank = sft.lineage.config.loraR + dpo.lineage.config.loraR;
  if (!alreadyMerged(dir, parts)) {
    ctx.progress(0, 1, 'merging the DPO and SFT adapters');
    const result = await engine.call(
      'merge_adapters',
      { adapters: parts, output_dir: dir },
      { signal: ctx.signal },
    );
    rank = result.rank;
    ctx.progress(1, 1, 'merged');
  }
  const parents: LineageParent[] = [
    { checkpointId: dpo.id, path: dpo.path, kind: 'dpo', weight: weights.dpo },
    { checkpointId: sft.id, path: sft.path, kind: 'sft', weight: weights.sft },
  ];
  const known = store.checkpoints.list({ runId: ctx.run.id }).find((c) => c.path === dir);
  if (known) return known;
  const cp = store.checkpoints.insert({
    runId: ctx.run.id,
    jobId: null,
    step: sft.step,
    path: dir,
    metrics: {},
    lineage: {
      personaId: ctx.run.personaId,
      personaVersion: ctx.run.personaVersion,
      dataHash: `${dpo.lineage.dataHash}+${sft.lineage.dataHash}`,
      // Weights and scales are folded into B: rank r_dpo + r_sft with alpha = rank (scale 1).
      config: { ...sft.lineage.config, loraR: rank, loraAlpha: rank, loraDropout: 0 },
      parents,
    },
  });
  events.emit('training:checkpoint', { runId: ctx.run.id, checkpoint: cp });
  ctx.log(
    `merged ${weights.dpo} x DPO (${dpo.id}) + ${weights.sft} x SFT (${sft.id}) into ${dir} (rank ${rank})`,
  );
  return cp;
}
