/**
 * The base model's answers, kept between runs. Evaluation asks the base model (no adapter, no
 * system prompt) the held-out questions, the classifier's negative questions and the capability
 * and safety sets; none of that depends on what a run trained, so a second run of one persona
 * with the same questions would compute it again for nothing.
 *
 * generateAll seeds every engine call afresh (seed in the sampling, one call per chunk), so one
 * chunk's outputs depend only on that chunk's request: the cache is keyed by the chunk's whole
 * request (model, system, prompts, sampling, batch size) plus what the engine reports about
 * itself, and a hit returns exactly what that call returned. Files live in
 * <data folder>/cache/evaluation/<sha256>.json; deleting the folder is always safe.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GenerateOutput, ModelSpec, SamplingParams } from '../../src-shared/engine-protocol';
import type { EngineClient } from '../engine/client';
import { generateAll, type GenerateAllInput } from '../engine/generate-all';

/**
 * Bumped when the engine's prompt rendering or decoding changes in a way its reported versions
 * do not show (the chat template's system turn, the decode loop's sampling), so old answers
 * are not reused.
 */
export const ANSWER_CACHE_VERSION = 1;

export interface AnswerCache {
  dir: string;
  /** What the engine says it is (engine_version, device, dtype, torch/transformers versions). */
  engineTag: string;
  hits: number;
  misses: number;
}

/** The cache in `dir`, tagged with the running engine's identity (one health call). */
export async function openAnswerCache(engine: EngineClient, dir: string): Promise<AnswerCache> {
  const h = await engine.call('health', {});
  const engineTag = JSON.stringify([
    h.engine_version,
    h.device,
    h.dtype,
    h.versions.torch ?? null,
    h.versions.transformers ?? null,
  ]);
  return { dir, engineTag, hits: 0, misses: 0 };
}

export function answerCacheKey(
  cache: Pick<AnswerCache, 'engineTag'>,
  request: {
    model: ModelSpec;
    system?: string;
    prompts: readonly string[];
    sampling: SamplingParams;
    batch: number;
  },
): string {
  const body = JSON.stringify({
    v: ANSWER_CACHE_VERSION,
    engine: cache.engineTag,
    model: request.model,
    system: request.system ?? null,
    prompts: request.prompts,
    sampling: request.sampling,
    batch: request.batch,
  });
  return createHash('sha256').update(body).digest('hex');
}

function read(path: string, n: number): GenerateOutput[] | null {
  if (!existsSync(path)) return null;
  try {
    const outs = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    // A file that is not what this chunk needs (torn, edited) is a miss, not an error.
    return Array.isArray(outs) && outs.length === n ? (outs as GenerateOutput[]) : null;
  } catch {
    return null;
  }
}

/**
 * generateAll for a model without an adapter, chunk by chunk through the cache. The chunks are
 * generateAll's own (chunkSize prompts each, in order), so outputs are the uncached call's.
 */
export async function cachedGenerateAll(
  engine: EngineClient,
  cache: AnswerCache,
  input: Omit<GenerateAllInput, 'adapter'>,
): Promise<GenerateOutput[]> {
  const outputs: GenerateOutput[] = [];
  const total = input.prompts.length;
  mkdirSync(cache.dir, { recursive: true });
  for (let start = 0; start < total; start += input.chunkSize) {
    const prompts = input.prompts.slice(start, start + input.chunkSize);
    const key = answerCacheKey(cache, { ...input, prompts, batch: input.chunkSize });
    const path = join(cache.dir, `${key}.json`);
    let outs = read(path, prompts.length);
    if (outs) {
      cache.hits += 1;
    } else {
      cache.misses += 1;
      outs = await generateAll(engine, { ...input, prompts, onProgress: undefined });
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(outs));
      renameSync(tmp, path); // atomic: a crash never leaves half a file under the key
    }
    outputs.push(...outs);
    input.onProgress?.(outputs.length, total);
  }
  return outputs;
}
