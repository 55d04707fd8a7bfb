/**
 * A served teacher at scale, on the engine's own OpenAI-compatible server as a stand-in for vLLM
 * or SGLang: the same questions behind the same constitution (a shared system prompt, the prefix
 * a server's prefix cache keeps), answered through the pipeline's OpenAICompatibleProvider one
 * request at a time and with `concurrency` requests in flight, then again with top_logprobs
 * captured for kd (the files written by the engine). Greedy, so each run answers alike.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelSpec } from '../../src-shared/engine-protocol';
import type { EngineClient } from '../../src-main/engine/client';
import { startModelServer } from '../../src-main/engine/model-server';
import { createTeacherProvider, type TeacherItem, type TeacherOutput } from '../../src-main/providers';
import type { BenchRow } from './bench';

export interface EndpointTeacherOptions {
  model: ModelSpec;
  /** The engine that writes the captured files (the student's tokenizer). */
  engine: Pick<EngineClient, 'call'>;
  system: string;
  questions: string[];
  maxTokens: number;
  concurrency: number;
  /** top_logprobs for the capture run (1-20). */
  topLogprobs: number;
  python?: string;
}

export interface EndpointRun {
  concurrency: number;
  captured: boolean;
  wallMs: number;
  completionTokens: number;
  tokensPerS: number;
  topkRows: number;
}

export interface EndpointTeacherResult {
  items: number;
  maxTokens: number;
  runs: EndpointRun[];
  /** Greedy answers equal across the runs (the server batches, the text must not change). */
  sameAnswers: boolean;
}

export async function measureEndpointTeacher(o: EndpointTeacherOptions): Promise<EndpointTeacherResult> {
  const concurrency = Math.max(1, Math.floor(o.concurrency));
  const server = await startModelServer({
    model: o.model,
    modelId: 'teacher',
    port: 0,
    maxBatch: concurrency,
    maxQueue: Math.max(concurrency, o.questions.length),
    ...(o.python ? { python: o.python } : {}),
  });
  const work = mkdtempSync(join(tmpdir(), 'cs-endpoint-bench-'));
  try {
    const sampling = { temperature: 0, top_p: 1, max_new_tokens: o.maxTokens, seed: 0 };
    const items = (capture: boolean, tag: string): TeacherItem[] =>
      o.questions.map((q, i) => ({
        system: o.system,
        messages: [{ role: 'user', content: q }],
        ...(capture ? { topkPath: join(work, `${tag}-${i}.safetensors`) } : {}),
      }));
    const run = async (c: number, capture: boolean): Promise<{ run: EndpointRun; texts: string[] }> => {
      const provider = createTeacherProvider({
        endpoint: {
          baseUrl: server.url,
          model: server.model,
          apiKey: '',
          concurrency: c,
          ...(capture ? { topLogprobs: o.topLogprobs } : {}),
        },
        engine: o.engine,
        localModel: o.model,
      });
      const t0 = performance.now();
      const out: TeacherOutput[] = await provider.generate(
        items(capture, `c${c}`),
        sampling,
        capture ? { captureTopK: o.topLogprobs } : {},
      );
      const wallMs = performance.now() - t0;
      const completionTokens = out.reduce((s, x) => s + (x.completionTokens ?? 0), 0);
      return {
        run: {
          concurrency: c,
          captured: capture,
          wallMs,
          completionTokens,
          tokensPerS: completionTokens / (wallMs / 1000),
          topkRows: out.reduce((s, x) => s + (x.topkTokens ?? 0), 0),
        },
        texts: out.map((x) => x.text),
      };
    };
    // Warm-up: the first forward passes pay for allocation, not for what is measured here.
    await run(concurrency, false);
    const one = await run(1, false);
    const many = await run(concurrency, false);
    const captured = await run(concurrency, true);
    const same =
      JSON.stringify(one.texts) === JSON.stringify(many.texts) &&
      JSON.stringify(many.texts) === JSON.stringify(captured.texts);
    return {
      items: o.questions.length,
      maxTokens: o.maxTokens,
      runs: [one.run, many.run, captured.run],
      sameAnswers: same,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
    await server.close();
  }
}

export function endpointTeacherRows(r: EndpointTeacherResult): BenchRow[] {
  const [one, many, captured] = r.runs as [EndpointRun, EndpointRun, EndpointRun];
  const what = `served teacher (engine's OpenAI server as vLLM stand-in), ${r.items} questions × up to ${r.maxTokens} tokens`;
  return [
    {
      name: `${what}: ${many.concurrency} in flight vs 1`,
      value: many.tokensPerS / one.tokensPerS,
      unit: 'x',
      target: '> 1',
      passed: many.tokensPerS > one.tokensPerS,
      note: `${many.tokensPerS.toFixed(1)} vs ${one.tokensPerS.toFixed(1)} tokens/s`,
    },
    {
      name: `${what}: with top_logprobs captured for kd vs without (${many.concurrency} in flight)`,
      value: captured.tokensPerS / many.tokensPerS,
      unit: 'x',
      target: '-',
      passed: null,
      note: `${captured.topkRows} token rows written`,
    },
    {
      name: `${what}: greedy answers identical across the three runs`,
      value: r.sameAnswers ? 1 : 0,
      unit: 'bool',
      target: '= 1',
      passed: r.sameAnswers,
    },
  ];
}
