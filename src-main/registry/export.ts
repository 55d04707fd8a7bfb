/**
 * Exporting a checkpoint for use outside the studio (the engine's export_adapter: PEFT adapter,
 * model card, deploy example, GGUF LoRA, Ollama Modelfile, optionally the merged model) and
 * pushing an export with the run's datasets to a Hugging Face hub repo (push_to_hub). Shared by
 * the checkpoints:export channel and `character checkpoint export|push`.
 *
 * The folder is checked here before the engine starts: an absolute path the system can create,
 * and, unless overwrite, empty or absent — an export never mixes into another folder's files.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { ExportedBase } from '../../src-shared/engine-protocol';
import { ConflictError, InvalidParamsError, NotFoundError } from '../core/errors';
import { parseModelSpec } from '../core/model-spec';
import { runPaths } from '../core/paths';
import type { EngineClient } from '../engine/client';
import type { Store } from '../store';

export interface ExportServices {
  store: Store;
  engine: EngineClient;
  dataDir: string;
}

export interface ExportCheckpointOptions {
  /** Absolute; default <dataDir>/exports/<checkpoint id>. */
  outputDir?: string;
  merged?: boolean;
  overwrite?: boolean;
  signal?: AbortSignal;
}

export interface CheckpointExport {
  dir: string;
  files: string[];
  mergedDir: string | null;
  ggufLora: string | null;
  ggufModel: string | null;
  modelfile: string | null;
  base: ExportedBase;
  notes: string[];
}

/** Longest path Linux accepts (PATH_MAX, bytes) and the system folders no export belongs in. */
const MAX_PATH_BYTES = 4096;
const SYSTEM_ROOTS = ['/proc', '/sys', '/dev'];

/** The resolved export folder, or InvalidParams/Conflict naming outputDir. */
export function checkOutputDir(requested: string | undefined, fallback: string, overwrite: boolean): string {
  if (requested !== undefined) {
    if (requested.includes('\0'))
      throw new InvalidParamsError('"outputDir" contains a NUL character', 'outputDir');
    if (!isAbsolute(requested))
      throw new InvalidParamsError('"outputDir" must be an absolute path', 'outputDir');
    if (Buffer.byteLength(requested) >= MAX_PATH_BYTES) {
      throw new InvalidParamsError(`"outputDir" is longer than ${MAX_PATH_BYTES - 1} bytes`, 'outputDir');
    }
  }
  const dir = requested ? resolve(requested) : fallback;
  if (SYSTEM_ROOTS.some((root) => dir === root || dir.startsWith(`${root}/`))) {
    throw new InvalidParamsError(`"outputDir" may not be inside ${dir.split('/')[1]}`, 'outputDir');
  }
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory())
      throw new InvalidParamsError(`"outputDir" is a file: ${dir}`, 'outputDir');
    if (!overwrite && readdirSync(dir).length > 0) {
      throw new ConflictError(`${dir} is not empty: choose another folder, or overwrite the export in it`, {
        param: 'outputDir',
        dir,
      });
    }
  }
  return dir;
}

export async function exportCheckpoint(
  s: ExportServices,
  id: string,
  opts: ExportCheckpointOptions = {},
): Promise<CheckpointExport> {
  const cp = s.store.checkpoints.get(id);
  if (!cp) throw new NotFoundError('checkpoint', id);
  const outputDir = checkOutputDir(
    opts.outputDir,
    join(s.dataDir, 'exports', cp.id),
    opts.overwrite === true,
  );
  const run = s.store.runs.get(cp.runId);
  const model = run ? run.config.studentModel : parseModelSpec(cp.lineage.config.baseModel || 'default');
  const evaluation = s.store.evaluations.latest(cp.runId);
  const result = await s.engine.call(
    'export_adapter',
    {
      model,
      adapter: cp.path,
      output_dir: outputDir,
      merged: opts.merged === true,
      gguf: true,
      overwrite: opts.overwrite === true,
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
    },
    opts.signal ? { signal: opts.signal } : {},
  );
  return {
    dir: result.output_dir,
    files: result.files,
    mergedDir: result.merged_dir,
    ggufLora: result.gguf_lora,
    ggufModel: result.gguf_model,
    modelfile: result.modelfile,
    base: result.base,
    notes: result.notes,
  };
}

export interface PushOptions {
  /** owner/name */
  repoId: string;
  endpoint?: string;
  private?: boolean;
  /** Push the run's train.jsonl and val.jsonl too (default true). */
  withData?: boolean;
  signal?: AbortSignal;
}

export interface PushResult {
  repoId: string;
  url: string;
  commit: string;
  files: string[];
  exportDir: string;
}

/** Export the checkpoint (replacing its earlier export in the default folder) and push it. */
export async function pushCheckpoint(s: ExportServices, id: string, opts: PushOptions): Promise<PushResult> {
  if (!/^[\w.-]+\/[\w.-]+$/.test(opts.repoId)) {
    throw new InvalidParamsError('the hub repo must look like owner/name', 'repoId');
  }
  const exported = await exportCheckpoint(s, id, { overwrite: true, signal: opts.signal });
  const cp = s.store.checkpoints.get(id);
  const paths = cp ? runPaths(s.dataDir, cp.runId) : null;
  const dataFiles =
    opts.withData === false || !paths ? [] : [paths.train, paths.val].filter((f) => existsSync(f));
  const pushed = await s.engine.call(
    'push_to_hub',
    {
      folder: exported.dir,
      repo_id: opts.repoId,
      data_files: dataFiles,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.private ? { private: true } : {}),
    },
    opts.signal ? { signal: opts.signal } : {},
  );
  return {
    repoId: pushed.repo_id,
    url: pushed.url,
    commit: pushed.commit,
    files: pushed.files,
    exportDir: exported.dir,
  };
}
