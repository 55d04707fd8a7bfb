/** Teacher providers: pick one from settings, or construct one directly. */
import type { ModelSpec } from '../../src-shared/engine-protocol';
import type { EngineClient } from '../engine/client';
import { LocalEngineProvider } from './local';
import { OpenAICompatibleProvider, type OpenAICompatibleOptions, type TopkWriter } from './openai';
import type { EndpointSettings } from '../core/settings';
import type { TeacherProvider } from './types';

export * from './types';
export { ProviderError, type ProviderErrorCode } from './errors';
export { LocalEngineProvider, type LocalEngineProviderOptions } from './local';
export {
  OpenAICompatibleProvider,
  parseRetryAfter,
  type EndpointTopk,
  type OpenAICompatibleOptions,
  type RetryInfo,
  type TopkWriter,
} from './openai';
export { isReasoningEffort, REASONING_EFFORTS, splitThinking, type ReasoningEffort } from './thinking';
export { estimateGeneration, type GenerationEstimate, type GenerationEstimateInput } from './estimate';

export interface TeacherProviderChoice {
  /** An OpenAI-compatible endpoint; when null or without a base URL, the local engine is the teacher. */
  endpoint: EndpointSettings | null;
  engine: Pick<EngineClient, 'call'>;
  /** The local model (the same base the student starts from, in prompt distillation). */
  localModel: ModelSpec;
  /** Extra options for the remote provider (concurrency, retries, timeouts). */
  remote?: Partial<Omit<OpenAICompatibleOptions, 'baseUrl' | 'model' | 'apiKey'>>;
  chunkSize?: number;
}

export function createTeacherProvider(choice: TeacherProviderChoice): TeacherProvider {
  const ep = choice.endpoint;
  if (ep && ep.baseUrl.trim() && ep.model.trim()) {
    return new OpenAICompatibleProvider({
      ...choice.remote,
      baseUrl: ep.baseUrl,
      model: ep.model,
      apiKey: ep.apiKey,
      ...(ep.reasoningEffort !== undefined ? { reasoningEffort: ep.reasoningEffort } : {}),
      ...(ep.concurrency !== undefined ? { concurrency: ep.concurrency } : {}),
      ...(ep.topLogprobs
        ? {
            topLogprobs: ep.topLogprobs,
            writeTopk: engineTopkWriter(choice.engine, choice.localModel, ep.model),
          }
        : {}),
      ...(ep.returnTokenIds !== undefined ? { returnTokenIds: ep.returnTokenIds } : {}),
    });
  }
  return new LocalEngineProvider({
    client: choice.engine,
    model: choice.localModel,
    ...(choice.chunkSize ? { chunkSize: choice.chunkSize } : {}),
  });
}

/**
 * An endpoint teacher's captured logprobs -> teacher top-k files, written by the engine with the
 * tokenizer of `model` (the run's local teacher spec: the student's base unless --teacher says
 * otherwise), which must be the endpoint model's vocabulary.
 */
export function engineTopkWriter(
  engine: Pick<EngineClient, 'call'>,
  model: ModelSpec,
  endpointModel: string,
): TopkWriter {
  return async (files, k) => {
    const r = await engine.call('topk_from_logprobs', {
      model,
      k,
      files: files.map((f) => ({
        path: f.path,
        tokens: f.tokens,
        text: f.text,
        ...(f.promptTokens !== null ? { prompt_tokens: f.promptTokens } : {}),
      })),
      metadata: { model: `endpoint:${endpointModel}`, source: 'openai-compatible' },
    });
    return r.files.map((f) => f.rows);
  };
}
