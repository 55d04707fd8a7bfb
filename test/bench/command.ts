/** `npm run bench`: pipeline benchmarks plus the engine's own; bench/results/bench.json. */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { chatLatencyRows, measureChatLatency, type ChatLatency } from './chat-latency';
import { demoStepRows, newestDemoRun } from './demo-steps';
import { chatLoopRows, measureChatLoops, type LoopMeasure } from './chat-loops';
import { measureServerLoad, serverLoadRows, type ServerLoadResult } from './server-load';
import {
  endpointTeacherRows,
  measureEndpointTeacher,
  type EndpointTeacherResult,
} from './endpoint-teacher';
import { CHAT_SAMPLING } from '../../src-main/chat/service';
import {
  benchEngine,
  engineSummaryRows,
  benchGeneration,
  benchStore,
  formatBenchTable,
  writeBenchReport,
  type BenchRow,
} from './bench';
import { repoRoot } from '../../src-main/engine/client';
import { parseModelSpec } from '../../src-main/core/model-spec';
import type { CommandFn } from '../../src-main/cli/context';
import { parseCommandArgs } from '../../src-main/cli/args';

export const benchCommand: CommandFn = async (args, ctx) => {
  const { values } = parseCommandArgs('bench', args, {
    model: { type: 'string', default: 'default' },
    items: { type: 'string', default: '32' },
    'max-new-tokens': { type: 'string', default: '32' },
    batch: { type: 'string', default: '16' },
    'no-engine-bench': { type: 'boolean' },
    'no-chat-loops': { type: 'boolean' },
    'chat-questions': { type: 'string', default: '32' },
    'no-server-load': { type: 'boolean' },
    'server-clients': { type: 'string', default: '8' },
    'server-tokens': { type: 'string', default: '32' },
    'no-endpoint-teacher': { type: 'boolean' },
    'no-chat-latency': { type: 'boolean' },
    'chat-warm-turns': { type: 'string', default: '3' },
    'endpoint-concurrency': { type: 'string', default: '8' },
    out: { type: 'string' },
  });
  const outDir = values.out ?? join(repoRoot(), 'bench', 'results');
  const rows: BenchRow[] = [];
  ctx.note('bench: store (5000 examples)');
  rows.push(...benchStore());
  const studio = await ctx.open();
  ctx.note(`bench: generation through the pipeline vs the engine (${values.model})`);
  rows.push(
    ...(await benchGeneration(studio.engine, {
      model: parseModelSpec(values.model ?? 'default'),
      items: Number(values.items),
      maxNewTokens: Number(values['max-new-tokens']),
      batchSize: Number(values.batch),
    })),
  );
  let chatLoops: LoopMeasure[] | null = null;
  if (!values['no-chat-loops']) {
    ctx.note(`bench: chat sampling, loops with and without chat's anti-loop default`);
    chatLoops = await measureChatLoops(studio.engine, {
      model: parseModelSpec(values.model ?? 'default'),
      questions: Number(values['chat-questions']),
      settings: { 'chat default': CHAT_SAMPLING },
    });
    rows.push(...chatLoopRows(chatLoops));
  }
  let serverLoad: ServerLoadResult | null = null;
  if (!values['no-server-load']) {
    ctx.note(
      `bench: the OpenAI-compatible server under ${values['server-clients']} concurrent streaming clients`,
    );
    serverLoad = await measureServerLoad({
      model: parseModelSpec(values.model ?? 'default'),
      clients: Number(values['server-clients']),
      maxTokens: Number(values['server-tokens']),
    });
    rows.push(...serverLoadRows(serverLoad));
  }
  let endpointTeacher: EndpointTeacherResult | null = null;
  if (!values['no-endpoint-teacher']) {
    const concurrency = Number(values['endpoint-concurrency']);
    ctx.note(
      `bench: a served teacher (the engine's OpenAI server as vLLM stand-in), ${concurrency} in flight`,
    );
    const persona = studio.personas.get('beethoven');
    endpointTeacher = await measureEndpointTeacher({
      model: parseModelSpec(values.model ?? 'default'),
      engine: studio.engine,
      system: persona.systemPrompt,
      questions: Array.from({ length: 8 }, (_, i) => `Question ${i + 1}: what is music to you?`),
      maxTokens: Number(values['server-tokens']),
      concurrency,
      topLogprobs: 20,
    });
    rows.push(...endpointTeacherRows(endpointTeacher));
  }
  const demoRun = newestDemoRun(studio.store.runs.list());
  ctx.note(`bench: demo steps from ${demoRun ? `run ${demoRun.id}` : 'no finished mini run (run npm run demo first)'}`);
  rows.push(...demoStepRows(demoRun));
  let chatLatency: ChatLatency | null = null;
  if (!values['no-chat-latency']) {
    const promoted = studio.registry.active();
    ctx.note(`bench: chat time to first token and tokens/s, cold and warm (${promoted ? promoted.id : 'a 2-step LoRA'})`);
    chatLatency = await measureChatLatency(studio.engine, {
      model: parseModelSpec(values.model ?? 'default'),
      adapter: promoted?.path ?? null,
      warmTurns: Number(values['chat-warm-turns']),
    });
    rows.push(...chatLatencyRows(chatLatency));
  }
  let engine: unknown = null;
  if (!values['no-engine-bench']) {
    ctx.note('bench: engine (python -m character_dev.bench)');
    const r = await benchEngine(join(outDir, 'engine-bench.json'));
    engine = r.ran ? r.result : { skipped: r.note };
    if (!r.ran) ctx.note(`engine bench skipped: ${r.note}`);
    rows.push(...engineSummaryRows(engine));
  }
  const report = {
    createdAt: new Date().toISOString(),
    host: { cpus: cpus().length, node: process.version },
    rows,
    chatLoops,
    serverLoad,
    endpointTeacher,
    chatLatency,
    engine,
  };
  const path = join(outDir, 'bench.json');
  writeBenchReport(path, report);
  ctx.result({ path, ...report });
  ctx.print(formatBenchTable(rows));
  ctx.print(`written to ${path}`);
  return rows.every((r) => r.passed !== false) ? 0 : 1;
};
