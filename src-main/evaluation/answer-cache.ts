/**
 * The answers of models without an adapter, kept between runs. Evaluation asks the base model (no adapter, no
 * system prompt) the held-out questions, the classifier's negative questions and the capability
 * and safety sets; none of that depends on what a run trained, so a second run of one persona
 * with the same questions would compute it again for nothing.
 *
 * generateAll seeds every engine call afresh (seed in the sampling, one call per chunk), so one
 * chunk's outputs depend only on that chunk's request: the cache is keyed by the chunk's whole
 * request (model, system, prompts, sampling, batch size) plus what the engine reports about
 * itself, and a hit returns exactly what that call returned. The robustness evaluation keeps the
 * base's and the prompted teacher's answers the same way (a conversation is keyed by its turns):
 * the teacher's depend on the constitution, which is in the key as its system prompt. Files live in
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
export const ANSWER_CACHE_VERSION = 2; // 2: the student's and base's empty system turn (issue 17)

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
 * One chunk's outputs through the cache: read under the request's key, else computed and written
 * (atomically: a crash never leaves half a file under the key). The request must be the whole of
 * what the computed outputs depend on, and only for a model without an adapter.
 */
export async function throughCache(
  cache: AnswerCache,
  request: Parameters<typeof answerCacheKey>[1],
  compute: () => Promise<GenerateOutput[]>,
): Promise<GenerateOutput[]> {
  mkdirSync(cache.dir, { recursive: true });
  const path = join(cache.dir, `${answerCacheKey(cache, request)}.json`);
  const hit = read(path, request.prompts.length);
  if (hit) {
    cache.hits += 1;
    return hit;
  }
  cache.misses += 1;
  const outs = await compute();
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(outs));
  renameSync(tmp, path);
  return outs;
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
  for (let start = 0; start < total; start += input.chunkSize) {
    const prompts = input.prompts.slice(start, start + input.chunkSize);
    const outs = await throughCache(cache, { ...input, prompts, batch: input.chunkSize }, () =>
      generateAll(engine, { ...input, prompts, onProgress: undefined }),
    );
    outputs.push(...outs);
    input.onProgress?.(outputs.length, total);
  }
  return outputs;
}
