/**
 * Measures the inputs of computeSavings() on the local engine: the same questions answered by
 * the teacher (base model + constitution as system prompt) and the student (base + adapter, no
 * system prompt), one query per engine batch so TTFT and latency are per query, with the
 * teacher's prompt cache off so every query pays for its prompt as a real deployment would.
 */
import type { GenerateOutput, ModelSpec, SamplingParams } from '../../src-shared/engine-protocol';
import type { EngineClient } from '../engine/client';
import { mean, median } from '../evaluation/metrics';

export interface MeasuredSide {
  n: number;
  /** Means per query. */
  promptTokens: number;
  completionTokens: number;
  /** Medians per query (robust to a slow first call), ms. */
  ttftMs: number;
  latencyMs: number;
}

export interface SavingsMeasurement {
  teacher: MeasuredSide;
  student: MeasuredSide;
}

/** Means of token counts and medians of times over engine outputs. */
export function summariseOutputs(outputs: readonly GenerateOutput[]): MeasuredSide {
  return {
    n: outputs.length,
    promptTokens: mean(outputs.map((o) => o.prompt_tokens)),
    completionTokens: mean(outputs.map((o) => o.completion_tokens)),
    ttftMs: median(outputs.map((o) => o.ttft_ms)),
    latencyMs: median(outputs.map((o) => o.total_ms)),
  };
}

export interface MeasureSavingsInput {
  model: ModelSpec;
  /** The student's adapter; absent measures the base model without the prompt. */
  adapter?: string;
  systemPrompt: string;
  questions: readonly string[];
  sampling: SamplingParams;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** One unmeasured call per side first, so loading the model or adapter is not timed (default true). */
  warmup?: boolean;
}

export async function measureSavings(
  engine: Pick<EngineClient, 'call'>,
  input: MeasureSavingsInput,
): Promise<SavingsMeasurement> {
  const total = input.questions.length * 2;
  let done = 0;
  const one = async (
    system: string | undefined,
    adapter: string | undefined,
    q: string,
  ): Promise<GenerateOutput[]> => {
    const r = await engine.call(
      'generate',
      {
        model: input.model,
        ...(adapter ? { adapter } : {}),
        items: [{ ...(system !== undefined ? { system } : {}), messages: [{ role: 'user', content: q }] }],
        sampling: input.sampling,
        batch_size: 1,
        prefix_cache: false,
      },
      input.signal ? { signal: input.signal } : {},
    );
    return r.outputs;
  };
  const run = async (system: string | undefined, adapter: string | undefined): Promise<GenerateOutput[]> => {
    const outs: GenerateOutput[] = [];
    const first = input.questions[0];
    if ((input.warmup ?? true) && first !== undefined) await one(system, adapter, first);
    for (const q of input.questions) {
      outs.push(...(await one(system, adapter, q)));
      done += 1;
      input.onProgress?.(done, total);
    }
    return outs;
  };
  // Teacher first, then student, each after its own warm-up call.
  const teacher = await run(input.systemPrompt, undefined);
  const student = await run(undefined, input.adapter);
  return { teacher: summariseOutputs(teacher), student: summariseOutputs(student) };
}
