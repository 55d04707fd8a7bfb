/**
 * Answers many questions on the local engine in chunks, so progress is reported and a cancel
 * takes effect between chunks. Used by evaluation, savings and the classifier negatives; the
 * teacher-data step goes through the provider layer instead (it may be a remote endpoint).
 */
import type { GenerateOutput, ModelSpec, SamplingParams } from '../../src-shared/engine-protocol';
import type { EngineClient } from './client';
import { CancelledError } from '../core/errors';

export interface GenerateAllInput {
  model: ModelSpec;
  adapter?: string;
  system?: string;
  prompts: readonly string[];
  sampling: SamplingParams;
  /** Items per engine call (and per engine batch). */
  chunkSize: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export async function generateAll(engine: EngineClient, input: GenerateAllInput): Promise<GenerateOutput[]> {
  const outputs: GenerateOutput[] = [];
  const total = input.prompts.length;
  for (let start = 0; start < total; start += input.chunkSize) {
    if (input.signal?.aborted) throw new CancelledError();
    const chunk = input.prompts.slice(start, start + input.chunkSize);
    const result = await engine.call(
      'generate',
      {
        model: input.model,
        ...(input.adapter ? { adapter: input.adapter } : {}),
        items: chunk.map((q) => ({
          ...(input.system !== undefined ? { system: input.system } : {}),
          messages: [{ role: 'user' as const, content: q }],
        })),
        sampling: input.sampling,
        batch_size: input.chunkSize,
      },
      { signal: input.signal },
    );
    outputs.push(...result.outputs);
    input.onProgress?.(outputs.length, total);
  }
  return outputs;
}
