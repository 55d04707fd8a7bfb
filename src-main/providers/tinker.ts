/**
 * A teacher that samples on Tinker (runs with the tinker backend): the engine's tinker_generate
 * renders each item with the model's chat template, samples it through the SDK (all of a chunk's
 * requests in flight at once) and, for kd, writes the teacher's top-k log-probs at every answer
 * token in the same file format as the local engine (Tinker returns at most 20 per token).
 */
import type { TinkerTarget } from '../../src-shared/engine-protocol';
import type { EngineClient } from '../engine/client';
import {
  teacherOutputOf,
  type SamplingParams,
  type TeacherGenerateOptions,
  type TeacherItem,
  type TeacherOutput,
  type TeacherProvider,
} from './types';

/** Items per engine call: progress and cancellation land between chunks. */
const DEFAULT_CHUNK_SIZE = 32;
/** The widest top-k Tinker's sampler returns, as OpenAI-style endpoints. */
export const TINKER_MAX_TOPK = 20;

export interface TinkerTeacherOptions {
  client: Pick<EngineClient, 'call'>;
  /** teacher_model names the model; api_key travels to the engine only. */
  target: TinkerTarget;
  chunkSize?: number;
}

export class TinkerTeacherProvider implements TeacherProvider {
  readonly name = 'tinker';
  readonly capturesDistributions = true;
  readonly model: string;
  private readonly client: Pick<EngineClient, 'call'>;
  private readonly target: TinkerTarget;
  private readonly chunkSize: number;

  constructor(options: TinkerTeacherOptions) {
    this.client = options.client;
    this.target = options.target;
    this.model = `tinker:${options.target.teacher_model ?? options.target.base_model ?? '?'}`;
    this.chunkSize = Math.max(1, Math.floor(options.chunkSize ?? DEFAULT_CHUNK_SIZE));
  }

  async generate(
    items: TeacherItem[],
    sampling: SamplingParams,
    opts: TeacherGenerateOptions = {},
  ): Promise<TeacherOutput[]> {
    const outputs: TeacherOutput[] = [];
    const total = items.length;
    const k = opts.captureTopK ? Math.min(opts.captureTopK, TINKER_MAX_TOPK) : 0;
    for (let start = 0; start < total; start += this.chunkSize) {
      const chunk = items.slice(start, start + this.chunkSize);
      const result = await this.client.call(
        'tinker_generate',
        {
          tinker: this.target,
          items: chunk.map((item) => ({
            ...(item.system !== undefined ? { system: item.system } : {}),
            messages: item.messages,
            ...(k && item.topkPath ? { topk_path: item.topkPath } : {}),
          })),
          sampling,
          ...(k ? { capture_topk: { k } } : {}),
        },
        {
          ...(opts.signal ? { signal: opts.signal } : {}),
          onEvent: (e) => {
            if (e.event !== 'progress' || !opts.onProgress) return;
            const done = Math.min(total, start + e.done);
            opts.onProgress({ done, total, fraction: total ? done / total : 1 });
          },
        },
      );
      outputs.push(...result.outputs.map(teacherOutputOf));
    }
    return outputs;
  }
}
