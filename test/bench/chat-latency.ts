/**
 * Chat as the demoer meets it: the promoted student (no system prompt) answering through the
 * engine's streaming `generate` exactly as ChatService sends a turn (chat's default sampling,
 * the history chat keeps: its last 8 messages of a 10-turn conversation). Time to first token is
 * the first `token` event after the call; decode tokens/s is the tokens after the first over
 * the time after it. Cold: the model unloaded first (the first message after a start); warm:
 * the next turns, with the model and adapter loaded.
 *
 * The student is the registry's promoted checkpoint when the data folder has one; else a LoRA
 * trained here for 2 steps with the mini scale's LoRA shape (r 16, q/k/v/o), which costs the
 * same per token as any student (its weights are not what is measured).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatMessage, ModelSpec } from '../../src-shared/engine-protocol';
import { CHAT_SAMPLING, toEngineSampling } from '../../src-main/chat/service';
import type { EngineClient } from '../../src-main/engine/client';
import type { BenchRow } from './bench';

/** ChatService's own history window (src-main/chat/service.ts HISTORY_MESSAGES). */
const HISTORY_MESSAGES = 8;
const TURNS = 10;

export interface ChatLatency {
  student: string;
  cold: { ttftMs: number; tokensPerS: number; completionTokens: number };
  warm: { ttftMs: number; tokensPerS: number; completionTokens: number; turns: number };
}

function history(): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (let t = 0; t < TURNS; t++) {
    out.push({ role: 'user', content: `Turn ${t + 1}: what did you compose in the year 18${10 + t}?` });
    out.push({ role: 'assistant', content: `In 18${10 + t} I worked on a sonata and a set of variations, ${'and more '.repeat(4)}.` });
  }
  return out;
}

/** A 2-step LoRA on a few rows: a student with the demo's adapter shape. */
export async function trainTinyStudent(engine: EngineClient, model: ModelSpec, dir: string): Promise<string> {
  const rows = history()
    .filter((m) => m.role === 'user')
    .map((u) => JSON.stringify({ messages: [u, { role: 'assistant', content: 'Music is the one true revelation.' }] }));
  const train = join(dir, 'train.jsonl');
  writeFileSync(train, `${rows.join('\n')}\n`);
  const res = await engine.call('train_sft', {
    model,
    train_path: train,
    output_dir: join(dir, 'student'),
    lora: { r: 16, alpha: 32, dropout: 0, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] },
    learning_rate: 5e-4,
    warmup_steps: 0,
    schedule: 'constant',
    batch_size: 4,
    grad_accum: 1,
    max_steps: 2,
    max_length: 128,
    eval_every: 0,
    save_every: 0,
    seed: 0,
  });
  return res.final_checkpoint;
}

async function turn(
  engine: EngineClient,
  model: ModelSpec,
  adapter: string,
  messages: ChatMessage[],
  seed: number,
): Promise<{ ttftMs: number; tokensPerS: number; completionTokens: number }> {
  const started = performance.now();
  let first: number | null = null;
  const result = await engine.call(
    'generate',
    {
      model,
      adapter,
      items: [{ messages: messages.slice(-(HISTORY_MESSAGES + 1)) }],
      sampling: toEngineSampling({ ...CHAT_SAMPLING, seed }),
      stream: true,
    },
    {
      onEvent: (e) => {
        if (e.event === 'token' && first === null) first = performance.now();
      },
    },
  );
  const end = performance.now();
  const out = result.outputs[0];
  const n = out?.completion_tokens ?? 0;
  const ttft = (first ?? end) - started;
  return { ttftMs: ttft, tokensPerS: n > 1 ? (n - 1) / ((end - (first ?? end)) / 1000) : NaN, completionTokens: n };
}

export async function measureChatLatency(
  engine: EngineClient,
  o: { model: ModelSpec; adapter: string | null; warmTurns: number },
): Promise<ChatLatency> {
  let tmp: string | null = null;
  try {
    let adapter = o.adapter;
    if (!adapter) {
      tmp = mkdtempSync(join(tmpdir(), 'cs-bench-chat-'));
      adapter = await trainTinyStudent(engine, o.model, tmp);
    }
    const info = await engine.call('load_model', { model: o.model, adapter });
    await engine.call('unload_model', { key: info.key });
    const msgs = history();
    const ask = (i: number): ChatMessage[] => [...msgs, { role: 'user', content: `And what came next, part ${i}?` }];
    const cold = await turn(engine, o.model, adapter, ask(0), 1);
    const warm = [];
    for (let i = 1; i <= o.warmTurns; i++) warm.push(await turn(engine, o.model, adapter, ask(i), 1 + i));
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    return {
      student: o.adapter ? 'the promoted checkpoint' : 'a 2-step LoRA (r 16, q/k/v/o) trained by the bench',
      cold,
      warm: {
        ttftMs: mean(warm.map((w) => w.ttftMs)),
        tokensPerS: mean(warm.map((w) => w.tokensPerS)),
        completionTokens: mean(warm.map((w) => w.completionTokens)),
        turns: warm.length,
      },
    };
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

export function chatLatencyRows(r: ChatLatency): BenchRow[] {
  const note = `${r.student}; chat sampling, ${TURNS}-turn history (last ${HISTORY_MESSAGES} messages sent)`;
  return [
    { name: 'chat: time to first token, cold (model unloaded)', value: r.cold.ttftMs, unit: 'ms', target: '-', passed: null, note },
    { name: 'chat: tokens/s after the first, cold', value: r.cold.tokensPerS, unit: 'tokens/s', target: '-', passed: null },
    { name: `chat: time to first token, warm (mean of ${r.warm.turns} turns)`, value: r.warm.ttftMs, unit: 'ms', target: '-', passed: null },
    { name: 'chat: tokens/s after the first, warm', value: r.warm.tokensPerS, unit: 'tokens/s', target: '-', passed: null },
  ];
}
