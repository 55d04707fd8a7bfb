/**
 * Load on the engine's OpenAI-compatible server: N clients at once (bounded, loopback), each a
 * streamed chat completion of the same length (ignore_eos), different questions. Measures each
 * request's time to first token and total time from the client's side, and checks that no
 * request starved: every one completes, and the slowest first token comes before the median
 * request is done (a server that serves one request at a time fails this: its last client
 * waits for all the others before its first token).
 */
import type { ModelSpec } from '../../src-shared/engine-protocol';
import { startModelServer } from '../../src-main/engine/model-server';
import type { BenchRow } from './bench';

/** At most this many clients: the bench is a bounded loop, not a stress test. */
export const MAX_CLIENTS = 64;
/** A request that takes longer than this counts as not completed (ms). */
const REQUEST_TIMEOUT_MS = 600_000;

export interface ServerLoadOptions {
  model: ModelSpec;
  clients: number;
  maxTokens: number;
  python?: string;
  onLog?: (line: string) => void;
}

export interface ClientMeasure {
  ttftMs: number | null;
  totalMs: number;
  tokens: number;
  completed: boolean;
  error: string | null;
}

export interface ServerLoadResult {
  clients: number;
  maxTokens: number;
  completed: number;
  wallMs: number;
  ttftP50Ms: number;
  ttftP95Ms: number;
  ttftMaxMs: number;
  totalP50Ms: number;
  totalP95Ms: number;
  tokensPerS: number;
  requests: ClientMeasure[];
}

/** The p-th percentile (0-100) by linear interpolation between closest ranks; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (rank - lo);
}

/** One streamed chat completion; what its client saw. */
async function streamOne(url: string, model: string, question: string, maxTokens: number): Promise<ClientMeasure> {
  const t0 = performance.now();
  let ttftMs: number | null = null;
  let tokens = 0;
  let completed = false;
  try {
    const res = await fetch(`${url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        messages: [{ role: 'user', content: question }],
        max_tokens: maxTokens,
        temperature: 0,
        ignore_eos: true,
        stream: true,
        stream_options: { include_usage: true },
      }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        const data = event.startsWith('data: ') ? event.slice(6) : '';
        if (data === '[DONE]') {
          completed = true;
          continue;
        }
        if (!data) continue;
        const msg = JSON.parse(data) as {
          choices?: { delta?: { content?: string } }[];
          usage?: { completion_tokens: number };
        };
        if (msg.choices?.[0]?.delta?.content && ttftMs === null) ttftMs = performance.now() - t0;
        if (msg.usage) tokens = msg.usage.completion_tokens;
      }
    }
    return { ttftMs, totalMs: performance.now() - t0, tokens, completed, error: null };
  } catch (error) {
    return { ttftMs, totalMs: performance.now() - t0, tokens, completed: false, error: (error as Error).message };
  }
}

export async function measureServerLoad(o: ServerLoadOptions): Promise<ServerLoadResult> {
  const clients = Math.max(1, Math.min(MAX_CLIENTS, Math.floor(o.clients)));
  const server = await startModelServer({
    model: o.model,
    modelId: 'bench',
    port: 0,
    maxBatch: clients,
    maxQueue: clients,
    ...(o.python ? { python: o.python } : {}),
    ...(o.onLog ? { onLog: o.onLog } : {}),
  });
  try {
    // Warm-up: the first forward passes pay for allocation, not for the scheduling measured here.
    await streamOne(server.url, server.model, 'Hello.', 4);
    const questions = Array.from({ length: clients }, (_, i) => `Question ${i + 1}: what is your view on music?`);
    const t0 = performance.now();
    const requests = await Promise.all(questions.map((q) => streamOne(server.url, server.model, q, o.maxTokens)));
    const wallMs = performance.now() - t0;
    const ttft = requests.map((r) => r.ttftMs).filter((v): v is number => v !== null);
    const total = requests.map((r) => r.totalMs);
    return {
      clients,
      maxTokens: o.maxTokens,
      completed: requests.filter((r) => r.completed && r.tokens === o.maxTokens).length,
      wallMs,
      ttftP50Ms: percentile(ttft, 50),
      ttftP95Ms: percentile(ttft, 95),
      ttftMaxMs: ttft.length ? Math.max(...ttft) : NaN,
      totalP50Ms: percentile(total, 50),
      totalP95Ms: percentile(total, 95),
      tokensPerS: requests.reduce((a, r) => a + r.tokens, 0) / (wallMs / 1000),
      requests,
    };
  } finally {
    await server.close();
  }
}

/** Bench rows: TTFT and latency percentiles, throughput, completion and starvation checks. */
export function serverLoadRows(r: ServerLoadResult): BenchRow[] {
  const what = `server load, ${r.clients} streaming clients × ${r.maxTokens} tokens`;
  const starvedRatio = r.ttftMaxMs / r.totalP50Ms;
  return [
    { name: `${what}: time to first token p50`, value: r.ttftP50Ms, unit: 'ms', target: '-', passed: null },
    { name: `${what}: time to first token p95`, value: r.ttftP95Ms, unit: 'ms', target: '-', passed: null },
    { name: `${what}: total time p50`, value: r.totalP50Ms, unit: 'ms', target: '-', passed: null },
    { name: `${what}: total time p95`, value: r.totalP95Ms, unit: 'ms', target: '-', passed: null },
    { name: `${what}: aggregate`, value: r.tokensPerS, unit: 'tokens/s', target: '-', passed: null },
    {
      name: `${what}: requests completed`,
      value: r.completed,
      unit: 'requests',
      target: `= ${r.clients}`,
      passed: r.completed === r.clients,
    },
    {
      name: `${what}: no request starved (slowest first token / median total time)`,
      value: starvedRatio,
      unit: 'x',
      target: '< 1',
      passed: r.completed === r.clients && starvedRatio < 1,
      note: `slowest first token ${Math.round(r.ttftMaxMs)} ms`,
    },
  ];
}
