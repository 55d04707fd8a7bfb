/**
 * The local engine as a teacher: the same model with the constitution as system prompt
 * (prompt distillation), or any other local model. Items go to the engine in chunks so progress
 * is reported and a cancel lands between (and, through the engine's cancel, within) chunks.
 */
import path from 'node:path';
import { modelSpecName } from '../core/model-spec';
import type { ModelSpec, SamplingParams } from '../../src-shared/engine-protocol';
import type { EngineClient } from '../engine/client';
import {
  teacherOutputOf,
  type TeacherGenerateOptions,
  type TeacherItem,
  type TeacherOutput,
  type TeacherProvider,
} from './types';

/** Items per engine call: large enough to batch well, small enough for timely progress. */
const DEFAULT_CHUNK_SIZE = 32;

export interface LocalEngineProviderOptions {
  client: Pick<EngineClient, 'call'>;
  model: ModelSpec;
  adapter?: string;
  /** Items per engine call (default 32). */
  chunkSize?: number;
  /** The engine's batch size; default: the chunk size. */
  batchSize?: number;
  /** Reuse the KV cache of a system prompt shared by the items (default true). */
  prefixCache?: boolean;
}

export class LocalEngineProvider implements TeacherProvider {
  readonly name = 'local';
  readonly capturesDistributions = true;
  readonly model: string;
  private readonly client: Pick<EngineClient, 'call'>;
  private readonly spec: ModelSpec;
  private readonly adapter: string | undefined;
  private readonly chunkSize: number;
  private readonly batchSize: number;
  private readonly prefixCache: boolean;

  constructor(options: LocalEngineProviderOptions) {
    this.client = options.client;
    this.spec = options.model;
    this.adapter = options.adapter;
    this.model =
      modelSpecName(options.model) + (options.adapter ? ` + ${path.basename(options.adapter)}` : '');
    this.chunkSize = Math.max(1, Math.floor(options.chunkSize ?? DEFAULT_CHUNK_SIZE));
    this.batchSize = Math.max(1, Math.floor(options.batchSize ?? this.chunkSize));
    this.prefixCache = options.prefixCache ?? true;
  }

  async generate(
    items: TeacherItem[],
    sampling: SamplingParams,
    opts: TeacherGenerateOptions = {},
  ): Promise<TeacherOutput[]> {
    const outputs: TeacherOutput[] = [];
    const total = items.length;
    for (let start = 0; start < total; start += this.chunkSize) {
      const chunk = items.slice(start, start + this.chunkSize);
      const result = await this.client.call(
        'generate',
        {
          model: this.spec,
          ...(this.adapter ? { adapter: this.adapter } : {}),
          items: chunk.map((item) => ({
            ...(item.system !== undefined ? { system: item.system } : {}),
            messages: item.messages,
            ...(item.topkPath ? { topk_path: item.topkPath } : {}),
          })),
          sampling,
          batch_size: this.batchSize,
          prefix_cache: this.prefixCache,
          ...(opts.captureTopK ? { capture_topk: { k: opts.captureTopK } } : {}),
        },
        {
          ...(opts.signal ? { signal: opts.signal } : {}),
          onEvent: (e) => {
            // The engine reports progress within the chunk; map it onto the whole job.
            if (e.event !== 'progress' || !opts.onProgress) return;
            const done = Math.min(total, start + Math.floor(e.fraction * chunk.length));
            opts.onProgress({ done, total, fraction: total ? done / total : 1 });
          },
        },
      );
      outputs.push(...result.outputs.map(teacherOutputOf));
      opts.onProgress?.({ done: outputs.length, total, fraction: total ? outputs.length / total : 1 });
    }
    return outputs;
  }

  async countTokens(items: TeacherItem[]): Promise<number[]> {
    const r = await this.client.call('count_tokens', { model: this.spec, chats: items });
    return r.counts;
  }
}
