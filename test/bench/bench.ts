/**
 * Benchmarks of the pipeline itself (the engine has its own, `python -m character_dev.bench`):
 *   store: 5000 teacher examples written to SQLite in one transaction and exported to JSONL
 *          (target < 1 s);
 *   generation: the same items through the pipeline's LocalEngineProvider vs the engine's own
 *          batched tokens/s (target: within 10 %).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelSpec } from '../../src-shared/engine-protocol';
import { defaultEnginePython, repoRoot, type EngineClient } from '../../src-main/engine/client';
import { LocalEngineProvider } from '../../src-main/providers';
import { openStore } from '../../src-main/store';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  target: string;
  passed: boolean | null;
  note?: string;
}

export interface BenchReport {
  createdAt: string;
  host: { cpus: number; node: string };
  rows: BenchRow[];
  engine: unknown;
}

const STORE_EXAMPLES = 5000;
const STORE_TARGET_S = 1;

export function benchStore(): BenchRow[] {
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-store-'));
  try {
    const store = openStore(join(dir, 'bench.sqlite'));
    const run = store.runs.create({ personaId: 'bench', personaVersion: 1, scale: 'paper', dir });
    const questions = Array.from({ length: STORE_EXAMPLES }, (_, i) => ({
      id: i + 1,
      category: `c${i % 8}`,
      text: `Question number ${i + 1}: what do you think about symphony ${i % 9}?`,
      heldout: false,
      template: null,
    }));
    store.questions.insertMany(run.id, questions);
    const answer = 'I am Ludwig van Beethoven, and music is the one true revelation. '.repeat(6);
    const t0 = performance.now();
    store.examples.insertMany(
      run.id,
      questions.map((q) => ({
        questionId: q.id,
        answer: `${answer}${q.id}`,
        promptTokens: 700,
        completionTokens: 96,
        provider: 'bench',
        model: 'bench',
        latencyMs: 0,
      })),
    );
    const t1 = performance.now();
    const rows = store.examples.listByRun(run.id);
    const text = rows
      .map((r) => JSON.stringify({ messages: [{ role: 'user', content: r.question }, { role: 'assistant', content: r.answer }] }))
      .join('\n');
    writeFileSync(join(dir, 'train.jsonl'), `${text}\n`);
    const t2 = performance.now();
    store.close();
    const total = (t2 - t0) / 1000;
    return [
      { name: `store: insert ${STORE_EXAMPLES} examples`, value: (t1 - t0) / 1000, unit: 's', target: '-', passed: null },
      { name: `store: read + export ${STORE_EXAMPLES} to JSONL`, value: (t2 - t1) / 1000, unit: 's', target: '-', passed: null },
      {
        name: `store: ${STORE_EXAMPLES} examples to SQLite and JSONL`,
        value: total,
        unit: 's',
        target: `< ${STORE_TARGET_S} s`,
        passed: total < STORE_TARGET_S,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface GenerationBenchOptions {
  model: ModelSpec;
  items: number;
  maxNewTokens: number;
  batchSize: number;
}

/**
 * Throughput of the same items twice: once straight to the engine (its own tokens/s over its
 * batches), once through LocalEngineProvider as the generate step uses it (completion tokens
 * over the wall time the caller sees, which includes the protocol and chunking).
 */
export async function benchGeneration(engine: EngineClient, o: GenerationBenchOptions): Promise<BenchRow[]> {
  const prompts = Array.from({ length: o.items }, (_, i) => `Tell me about your work, part ${i + 1}.`);
  const items = prompts.map((q) => ({ messages: [{ role: 'user' as const, content: q }] }));
  const sampling = { temperature: 0, top_p: 1, max_new_tokens: o.maxNewTokens, seed: 0 };
  // Warm-up with the very same call: model load and any first-call caches are paid here.
  await engine.call('generate', { model: o.model, items, sampling, batch_size: o.batchSize });
  // Engine figure, pipeline figure, engine figure again: the mean of the two engine runs is
  // compared, so drift in the machine's load does not favour either side.
  const direct1 = await engine.call('generate', { model: o.model, items, sampling, batch_size: o.batchSize });
  const provider = new LocalEngineProvider({ client: engine, model: o.model, chunkSize: o.batchSize });
  const t0 = performance.now();
  const outs = await provider.generate(items, sampling);
  const wall = (performance.now() - t0) / 1000;
  const direct2 = await engine.call('generate', { model: o.model, items, sampling, batch_size: o.batchSize });
  const tokens = outs.reduce((a, x) => a + (x.completionTokens ?? 0), 0);
  const pipelineTps = tokens / wall;
  const direct = { tokens_per_s: (direct1.tokens_per_s + direct2.tokens_per_s) / 2 };
  const ratio = pipelineTps / direct.tokens_per_s;
  return [
    { name: 'generation: engine batched', value: direct.tokens_per_s, unit: 'tokens/s', target: '-', passed: null, note: `${o.items} items, batch ${o.batchSize}, ${o.maxNewTokens} new tokens` },
    { name: 'generation: through the pipeline (LocalEngineProvider)', value: pipelineTps, unit: 'tokens/s', target: '-', passed: null },
    { name: 'generation: pipeline / engine', value: ratio, unit: 'x', target: '>= 0.90', passed: ratio >= 0.9 },
  ];
}

/** Runs `python -m character_dev.bench --out FILE` when the engine ships it. */
export async function benchEngine(outFile: string, extraArgs: string[] = []): Promise<{ ran: boolean; result: unknown; note: string }> {
  const root = repoRoot();
  if (!existsSync(join(root, 'engine', 'character_dev', 'bench'))) {
    return { ran: false, result: null, note: 'engine bench (character_dev.bench) not present' };
  }
  const code = await new Promise<number>((resolve) => {
    const child = spawn(defaultEnginePython(root), ['-m', 'character_dev.bench', '--out', outFile, ...extraArgs], {
      cwd: join(root, 'engine'),
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', () => resolve(-1));
    child.on('exit', (c) => resolve(c ?? -1));
  });
  if (code !== 0 || !existsSync(outFile)) return { ran: false, result: null, note: `engine bench exited with ${code}` };
  return { ran: true, result: JSON.parse(readFileSync(outFile, 'utf8')) as unknown, note: 'ok' };
}

/** A number at `path` in the engine bench's JSON, or null. */
function at(obj: unknown, ...path: string[]): number | null {
  let cur: unknown = obj;
  for (const key of path) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined;
  return typeof cur === 'number' && Number.isFinite(cur) ? cur : null;
}

/** The engine bench's headline ratios as rows with their targets (absent phases are skipped). */
export function engineSummaryRows(engine: unknown): BenchRow[] {
  const specs: { key: string; name: string; unit: string; target: string; pass: (v: number) => boolean | null }[] = [
    { key: 'generation_speedup', name: 'engine: prefix-cached batched / one at a time (generation)', unit: 'x', target: '>= 15', pass: (v) => v >= 15 },
    { key: 'generation_fraction_of_limit', name: "engine: generation / the machine's matmul limit, same batch", unit: 'frac', target: '>= 0.70', pass: (v) => v >= 0.7 },
    { key: 'generation_limit_tokens_per_s', name: "engine: the machine's matmul limit for the model", unit: 'tokens/s', target: '-', pass: () => null },
    { key: 'prefix_single_copy_over_expanded', name: 'engine: single-copy prefix / expanded SDPA (CPU)', unit: 'x', target: '-', pass: () => null },
    { key: 'bf16_kl_per_token', name: 'engine: KL(fp32 || bf16) teacher, per answer token', unit: 'nats', target: '<= 0.03', pass: (v) => v <= 0.03 },
    { key: 'bf16_speed_ratio', name: 'engine: bf16 / fp32 generation tokens/s', unit: 'x', target: '-', pass: () => null },
    { key: 'topk_capture_ratio', name: 'engine: generation with top-k capture / without', unit: 'x', target: '>= 0.90', pass: (v) => v >= 0.9 },
    { key: 'sft_speedup_vs_trl', name: 'engine: SFT loop / plain TRL SFTTrainer (tokens/s)', unit: 'x', target: '>= 1.5', pass: (v) => v >= 1.5 },
    { key: 'sft_final_loss_relative_gap', name: 'engine: SFT final loss gap to TRL', unit: 'frac', target: '<= 0.02', pass: (v) => v <= 0.02 },
    { key: 'kd_sft_step_time_ratio', name: 'engine: kd step time / sft step time', unit: 'x', target: '<= 1.3', pass: (v) => v <= 1.3 },
    { key: 'on_policy_step_s', name: 'engine: on-policy step (batch 8, 64 sampled tokens)', unit: 's', target: '-', pass: () => null },
  ];
  const rows: BenchRow[] = [];
  // Every engine row says which machine and whether the engine computed in bf16.
  const m = (engine && typeof engine === 'object' ? (engine as { machine?: unknown }).machine : null) as {
    cpus?: number;
    cpu_flags?: string[];
  } | null;
  const bf16 = (engine as { summary?: { bf16_used?: unknown } } | null)?.summary?.bf16_used === true;
  const note = `${m?.cpus ?? '?'} cores, flags ${(m?.cpu_flags ?? []).join(' ') || '-'}, ${bf16 ? 'bf16' : 'fp32'}`;
  for (const spec of specs) {
    const v = at(engine, 'summary', spec.key);
    if (v !== null) rows.push({ name: spec.name, value: v, unit: spec.unit, target: spec.target, passed: spec.pass(v), note });
  }
  return rows;
}

export function formatBenchTable(rows: readonly BenchRow[]): string {
  const w = Math.max(...rows.map((r) => r.name.length), 10);
  const lines = [`${'benchmark'.padEnd(w)}  ${'value'.padStart(10)}  unit      target     result`];
  for (const r of rows) {
    const v = r.value >= 100 ? r.value.toFixed(0) : r.value.toFixed(3);
    const res = r.passed === null ? '' : r.passed ? '✔' : '✘';
    const note = r.note ? `  (${r.note})` : '';
    lines.push(`${r.name.padEnd(w)}  ${v.padStart(10)}  ${r.unit.padEnd(8)}  ${r.target.padEnd(9)}  ${res}${note}`);
  }
  return lines.join('\n');
}

export function writeBenchReport(path: string, report: BenchReport): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}
