/**
 * Does the teacher's prompt fit the teacher's context? A constitution of 65k tokens validated,
 * was estimated at "~22s", and the pipeline then sat at generate 0/24 for minutes on a model
 * with an 8,192-token context. Checked before a run is created, with the numbers: the system
 * prompt (counted by the engine's tokenizer), an allowance for the longest question with the
 * chat template's tokens, and the new tokens each answer may take.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelSpec } from '../../src-shared/engine-protocol';
import { InputError } from '../core/errors';
import type { EngineClient } from '../engine/client';

/**
 * The default model's context, from SmolLM2-135M-Instruct's config.json
 * (max_position_embeddings 8192).
 */
export const DEFAULT_MODEL_CONTEXT = 8192;
/** Tokens allowed for the longest question with the chat template's own tokens around it. */
export const QUESTION_TOKEN_ALLOWANCE = 256;
/** Tokens per English word under BPE tokenizers (about 1.3), to say how much to cut in words. */
const TOKENS_PER_WORD = 1.3;

/** A model's context in tokens, from its config.json; null when it cannot be told here (gguf, hub). */
export function modelContextLength(spec: ModelSpec): number | null {
  if (spec.source === 'default') return DEFAULT_MODEL_CONTEXT;
  if (spec.source !== 'local') return null;
  const file = join(spec.path, 'config.json');
  if (!existsSync(file)) return null;
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const text = (c.text_config ?? c) as Record<string, unknown>;
    for (const key of ['max_position_embeddings', 'n_positions', 'max_seq_len', 'seq_length']) {
      const v = text[key];
      if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
    }
  } catch {
    return null;
  }
  return null;
}

export interface ContextFit {
  promptTokens: number;
  needed: number;
  context: number;
}

/** The numbers, or an InputError naming them when the prompt does not fit. */
export function checkContextFit(
  promptTokens: number,
  maxNewTokens: number,
  context: number,
  modelName: string,
): ContextFit {
  const needed = promptTokens + QUESTION_TOKEN_ALLOWANCE + maxNewTokens;
  if (needed > context) {
    const over = needed - context;
    throw new InputError(
      `the constitution's system prompt is ${promptTokens} tokens; with the longest question (up to ${QUESTION_TOKEN_ALLOWANCE} tokens) and ${maxNewTokens} new tokens per answer the teacher needs ${needed} tokens, but ${modelName} has a ${context}-token context: shorten the constitution by at least ${over} tokens (about ${Math.ceil(over / TOKENS_PER_WORD)} words), or use a teacher with a longer context (--teacher)`,
      { promptTokens, needed, context, maxNewTokens, field: 'constitution' },
    );
  }
  return { promptTokens, needed, context };
}

/** Counts the prompt with the teacher's tokenizer and checks it; null when the context is unknown. */
export async function checkTeacherContext(
  engine: Pick<EngineClient, 'call'>,
  teacher: ModelSpec,
  modelName: string,
  systemPrompt: string,
  maxNewTokens: number,
): Promise<ContextFit | null> {
  const context = modelContextLength(teacher);
  if (context === null) return null;
  const { counts } = await engine.call('count_tokens', { model: teacher, texts: [systemPrompt] });
  return checkContextFit(counts[0] ?? 0, maxNewTokens, context, modelName);
}
