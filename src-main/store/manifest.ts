/**
 * run.json: a run's database row kept beside its files (written at every status change), so
 * that `character doctor --rebuild` can index a run folder again when the database is lost.
 * Folders inside the data folder are not in it: they follow from where run.json lies.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { PIPELINE_STEPS, type PipelineStep, type RunStatus, type Scale } from '../../src-shared/contract';
import { makeDir, runManifestPath, runPaths } from '../core/paths';
import type { RunRecord } from './repos/runs';

export const MANIFEST_VERSION = 1;

export interface RunManifest {
  manifestVersion: number;
  id: string;
  personaId: string;
  personaVersion: number;
  scale: Scale;
  status: RunStatus;
  step: PipelineStep | null;
  error: string | null;
  completedSteps: PipelineStep[];
  timings: Record<string, number>;
  /** The run's RunConfig as stored (parsed strictly when the rebuilt run is read). */
  config: unknown;
  createdAt: string;
  updatedAt: string;
}

export function writeRunManifest(dataDir: string, run: RunRecord): string {
  const path = runManifestPath(dataDir, run.id);
  makeDir(runPaths(dataDir, run.id).dir);
  const manifest: RunManifest = {
    manifestVersion: MANIFEST_VERSION,
    id: run.id,
    personaId: run.personaId,
    personaVersion: run.personaVersion,
    scale: run.scale,
    status: run.status,
    step: run.step,
    error: run.error,
    completedSteps: run.completedSteps,
    timings: run.timings,
    config: run.config,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
  };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(tmp, path);
  return path;
}

/** The manifest in a run folder, or null when there is none or it cannot be read. */
export function readRunManifest(dataDir: string, runId: string): RunManifest | null {
  const path = runManifestPath(dataDir, runId);
  if (!existsSync(path)) return null;
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as Partial<RunManifest>;
    if (m.id !== runId || typeof m.personaId !== 'string' || typeof m.scale !== 'string') return null;
    return {
      manifestVersion: m.manifestVersion ?? MANIFEST_VERSION,
      id: m.id,
      personaId: m.personaId,
      personaVersion: typeof m.personaVersion === 'number' ? m.personaVersion : 1,
      scale: m.scale,
      status: m.status ?? 'failed',
      step: m.step ?? null,
      error: m.error ?? null,
      completedSteps: Array.isArray(m.completedSteps)
        ? PIPELINE_STEPS.filter((s) => m.completedSteps?.includes(s))
        : [],
      timings: m.timings ?? {},
      config: m.config,
      createdAt: m.createdAt ?? new Date(0).toISOString(),
      updatedAt: m.updatedAt ?? new Date(0).toISOString(),
    };
  } catch {
    return null;
  }
}
