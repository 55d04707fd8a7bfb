/**
 * The registry's view of Tinker: the checkpoints the service holds for this key (each marked
 * with the local checkpoint that registered it and the one pulled from it), and pulling one
 * into the local registry as a PEFT adapter folder, so chat, review and export work on it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TinkerCheckpoint } from '../../src-shared/engine-protocol';
import { tinkerConnection } from '../core/backend';
import { NotFoundError, StudioError } from '../core/errors';
import { jobDir, runPaths } from '../core/paths';
import type { SettingsStore } from '../core/settings';
import type { EngineClient } from '../engine/client';
import type { CheckpointRecord, Store } from '../store';

const TINKER_SCHEME = 'tinker://';

export interface TinkerServices {
  dataDir: string;
  store: Store;
  engine: Pick<EngineClient, 'call'>;
  settings: SettingsStore;
}

export interface TinkerListing extends TinkerCheckpoint {
  /** The local checkpoint registered with this tinker:// path, if any. */
  registeredId: string | null;
  /** A local checkpoint pulled from it, if any. */
  pulledId: string | null;
}

export async function listTinkerCheckpoints(
  s: TinkerServices,
  signal?: AbortSignal,
): Promise<TinkerListing[]> {
  const { checkpoints } = await s.engine.call(
    'tinker_checkpoints',
    { tinker: tinkerConnection(s.settings) },
    signal ? { signal } : {},
  );
  const local = s.store.checkpoints.list();
  return checkpoints.map((c) => ({
    ...c,
    registeredId: local.find((l) => l.path === c.tinker_path)?.id ?? null,
    pulledId: local.find((l) => l.lineage.pulledFrom === c.tinker_path)?.id ?? null,
  }));
}

/**
 * Pull a registered Tinker checkpoint (by id or tinker:// path) into its job's folder and
 * register the adapter as a checkpoint of the same run and job, with the same lineage plus
 * `pulledFrom`. A checkpoint pulled before is returned as it is.
 */
export async function pullTinkerCheckpoint(
  s: TinkerServices,
  ref: string,
  signal?: AbortSignal,
): Promise<CheckpointRecord> {
  const all = s.store.checkpoints.list();
  const source = ref.startsWith(TINKER_SCHEME)
    ? all.find((c) => c.path === ref)
    : s.store.checkpoints.get(ref);
  if (!source) throw new NotFoundError('checkpoint', ref);
  if (!source.path.startsWith(TINKER_SCHEME))
    throw new StudioError(`checkpoint ${source.id} is already a local folder (${source.path})`, 'conflict', {
      id: source.id,
    });
  const earlier = all.find((c) => c.lineage.pulledFrom === source.path && existsSync(c.path));
  if (earlier) return earlier;
  const name = source.path.slice(TINKER_SCHEME.length).split('/').pop() ?? `step-${source.step}`;
  const base = source.jobId
    ? jobDir(runPaths(s.dataDir, source.runId), source.jobId)
    : runPaths(s.dataDir, source.runId).dir;
  const outputDir = join(base, 'pulled', name);
  const pulled = await s.engine.call(
    'tinker_pull',
    { tinker: tinkerConnection(s.settings), tinker_path: source.path, output_dir: outputDir },
    signal ? { signal } : {},
  );
  return s.store.checkpoints.insert({
    runId: source.runId,
    jobId: source.jobId,
    step: source.step,
    path: pulled.output_dir,
    metrics: source.metrics,
    lineage: { ...source.lineage, pulledFrom: source.path },
  });
}
