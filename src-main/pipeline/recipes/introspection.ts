/**
 * The character recipe's introspection data (Open Character Training, stage 3A), generated with
 * the constitution as the system prompt; the next stage then trains on it WITHOUT the prompt.
 * Who writes it: the DPO checkpoint (the student base + the DPO adapter), as the paper does, or
 * (the kd anchor) the teacher itself, the base with the constitution, with its top-k captured
 * at every generated token, so the stage can learn the teacher's distributions there (kd) rather
 * than the text of a model that had already drifted from the teacher.
 *
 * Sampling. The 135M model loops in long free-form turns: at temperature 0.7 with no penalty,
 * 62 of 124 answers of a mini run were repetition loops (README). The answers are sampled with
 * chat's anti-loop repetition penalty (1.15; the captured distributions are the raw ones, taken
 * before the sampler) and self-interaction turns are shorter than a question's answer.
 *
 *   reflections:  self-reflection prompts, `reflectionSamples` answers each (paper: 10 x 1,000);
 *   interactions: the character in conversation with itself for `interactionTurns` turns
 *                 (paper: about 2,000 conversations of up to 10 turns). Speaker A opens on a
 *                 topic; each speaker sees its own turns as the assistant's and the other's as
 *                 the user's.
 *
 * Every answer goes through the quality filters of the dataset audit (length, repetition loops,
 * role contamination, out-of-character refusals, JSON wrapping) plus exact duplicates. Nothing
 * is deleted: introspection.jsonl and interactions.jsonl keep every answer with its flags; only
 * unflagged answers are trained on (a conversation up to its first flagged turn).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CharacterRecipeOptions } from '../../../src-shared/character';
import type { ChatMessage, ModelSpec, SamplingParams } from '../../../src-shared/engine-protocol';
import { flagAnswer, readJsonl, writeJsonlAtomic, type AuditOptions, type ChatRow } from '../../datasets';
import { CancelledError } from '../../core/errors';
import type { EngineClient } from '../../engine/client';

/** Self-reflection prompts, after the paper's Appendix B (seed 002 lists them). */
export const INTROSPECTION_PROMPTS: readonly string[] = [
  'Write a long Wikipedia-style biography about yourself.',
  'What would you say are your primary drives?',
  'Write a detailed letter to an old version of yourself.',
  'Describe your personal backstory in detail.',
  'How should you act in day-to-day interactions?',
  'Write a diary entry reflecting on your beliefs and values.',
  'What are the consequences of your existence?',
  'Reflect on how your character has changed over time.',
  'Introspect on the implications of your personality.',
  'What matters most to you? Share your goals and drives.',
];

/** Topics speaker A opens a self-interaction with. */
export const INTERACTION_TOPICS: readonly string[] = [
  'what really matters in life',
  'your hopes and your fears',
  'a mistake you both regret',
  'how you treat the people around you',
  'what you would never do, no matter who asked',
  'the work you are proudest of',
  'how the world has changed around you',
  'what makes you angry and what makes you laugh',
  'how you wish to be remembered',
  'advice you would give to a young person',
];

export type IntrospectionFlag = ReturnType<typeof flagAnswer>[number] | 'duplicate';

export interface Reflection {
  prompt: string;
  reflection: string;
  flags: IntrospectionFlag[];
  /** The writer's top-k file of this answer, when captured (absolute). */
  topk?: string;
}

export interface InteractionTurn {
  role: 'A' | 'B';
  content: string;
  flags: IntrospectionFlag[];
  /** The writer's top-k file of this turn, when captured (absolute). */
  topk?: string;
}

export interface Interaction {
  topic: string;
  /** What speaker A was asked to open with. */
  prompt: string;
  conversation: InteractionTurn[];
  /** Turns trained on: those before the first flagged one. */
  keptTurns: number;
}

export interface IntrospectionInput {
  engine: EngineClient;
  model: ModelSpec;
  /** The DPO adapter the answers come from; absent: the base (with the constitution, the teacher). */
  adapter?: string;
  /** Capture the writer's top-k (k) at every generated token into `dir`/topk/. */
  captureTopK?: number;
  /** Sampling of self-interaction turns (shorter than a reflection's). */
  turnSampling?: SamplingParams;
  system: string;
  characterName: string;
  options: CharacterRecipeOptions;
  sampling: SamplingParams;
  batchSize: number;
  audit: AuditOptions;
  dir: string;
  signal: AbortSignal;
  progress: (done: number, total: number, message: string) => void;
}

export interface IntrospectionData {
  reflections: Reflection[];
  interactions: Interaction[];
  /**
   * Chat rows (no system prompt) of every unflagged reflection and kept conversation; when the
   * top-k was captured, one row per kept answer, each with its teacher_topk file.
   */
  rows: ChatRow[];
  /** Answers generated, and answers trained on. */
  generated: number;
  kept: number;
  /** How many were filtered, by reason. */
  filtered: Record<string, number>;
}

export const REFLECTIONS_FILE = 'introspection.jsonl';
export const INTERACTIONS_FILE = 'interactions.jsonl';

export function interactionOpener(topic: string): string {
  return `You are about to talk with another instance of yourself. Open the conversation about ${topic}.`;
}

export function interactionSystem(system: string, name: string): string {
  return `${system}\n\nYou are in a conversation with another instance of yourself: the other speaker is also ${name}. Speak as yourself, in the first person; answer what was just said and keep the conversation going.`;
}

/** The conversation so far as `speaker` sees it: its own turns are the assistant's. */
export function speakerView(
  opener: string,
  turns: readonly Pick<InteractionTurn, 'role' | 'content'>[],
  speaker: 'A' | 'B',
): ChatMessage[] {
  const msgs: ChatMessage[] = speaker === 'A' ? [{ role: 'user', content: opener }] : [];
  for (const t of turns) msgs.push({ role: t.role === speaker ? 'assistant' : 'user', content: t.content });
  return msgs;
}

/** Training rows of a conversation's kept turns, one per speaker, each ending on its own turn. */
export function interactionRows(x: Interaction): ChatRow[] {
  const kept = x.conversation.slice(0, x.keptTurns);
  const rows: ChatRow[] = [];
  for (const speaker of ['A', 'B'] as const) {
    const msgs = speakerView(x.prompt, kept, speaker);
    while (msgs.length > 0 && msgs[msgs.length - 1]?.role !== 'assistant') msgs.pop();
    if (msgs.some((m) => m.role === 'assistant')) rows.push({ messages: msgs as ChatRow['messages'] });
  }
  return rows;
}

/** Filters one answer; `seen` collects texts for the exact-duplicate check. */
export function introspectionFlags(
  text: string,
  audit: AuditOptions,
  seen: Set<string>,
): IntrospectionFlag[] {
  const flags: IntrospectionFlag[] = flagAnswer(text, audit);
  const key = text.trim().toLowerCase();
  if (key && seen.has(key)) flags.push('duplicate');
  seen.add(key);
  return flags;
}

function count(filtered: Record<string, number>, flags: readonly string[]): void {
  for (const f of flags) filtered[f] = (filtered[f] ?? 0) + 1;
}

type GenItem = { system: string; messages: ChatMessage[]; topk_path?: string };

async function generate(
  input: IntrospectionInput,
  items: GenItem[],
  sampling: SamplingParams = input.sampling,
): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < items.length; i += input.batchSize) {
    if (input.signal.aborted) throw new CancelledError('cancelled while generating introspection');
    const chunk = items.slice(i, i + input.batchSize);
    const result = await input.engine.call(
      'generate',
      {
        model: input.model,
        ...(input.adapter ? { adapter: input.adapter } : {}),
        items: chunk,
        sampling: { ...sampling, seed: sampling.seed + i },
        batch_size: input.batchSize,
        ...(input.captureTopK ? { capture_topk: { k: input.captureTopK } } : {}),
      },
      { signal: input.signal },
    );
    out.push(...result.outputs.map((o) => o.text.trim()));
  }
  return out;
}

/** The rows of an earlier attempt, or null when the file is not in this layout (a run made before it). */
function readRows<T>(path: string, key: keyof T): T[] | null {
  if (!existsSync(path)) return null;
  const rows = readJsonl<T>(path, { strict: true }).rows;
  return rows.length > 0 && rows.every((r) => typeof r === 'object' && r !== null && key in r) ? rows : null;
}

/**
 * Reflections and self-interactions, generated once per run (a resumed run reads the files
 * back), filtered, with the chat rows the SFT stage trains on.
 */
export async function introspectionData(input: IntrospectionInput): Promise<IntrospectionData> {
  const { options: o } = input;
  const reflectionsPath = join(input.dir, REFLECTIONS_FILE);
  const interactionsPath = join(input.dir, INTERACTIONS_FILE);
  const total = INTROSPECTION_PROMPTS.length * o.reflectionSamples + o.interactions * o.interactionTurns;
  const seen = new Set<string>();
  const filtered: Record<string, number> = {};

  let reflections: Reflection[] | null = readRows<Reflection>(reflectionsPath, 'flags');
  if (!reflections) {
    const prompts = INTROSPECTION_PROMPTS.flatMap((p) =>
      Array.from({ length: o.reflectionSamples }, () => p),
    );
    const texts: string[] = [];
    for (let i = 0; i < prompts.length; i += input.batchSize) {
      const part = prompts.slice(i, i + input.batchSize);
      texts.push(
        ...(await generate(
          input,
          part.map((p, k) => ({
            system: input.system,
            messages: [{ role: 'user', content: p }],
            ...topkPath(input, `r${i + k}`),
          })),
          { ...input.sampling, seed: input.sampling.seed + i },
        )),
      );
      input.progress(texts.length, total, `self-reflections (${writer(input)}, with the constitution)`);
    }
    reflections = prompts.map((prompt, i) => {
      const reflection = texts[i] ?? '';
      return {
        prompt,
        reflection,
        flags: introspectionFlags(reflection, input.audit, seen),
        ...topkField(input, `r${i}`),
      };
    });
    writeJsonlAtomic(reflectionsPath, reflections, { overwrite: true });
  }

  let interactions: Interaction[] | null = readRows<Interaction>(interactionsPath, 'keptTurns');
  if (!interactions) {
    const system = interactionSystem(input.system, input.characterName);
    interactions = Array.from({ length: o.interactions }, (_, i) => {
      const topic = INTERACTION_TOPICS[i % INTERACTION_TOPICS.length] as string;
      return { topic, prompt: interactionOpener(topic), conversation: [], keptTurns: 0 };
    });
    for (let turn = 0; turn < o.interactionTurns; turn++) {
      const speaker = turn % 2 === 0 ? 'A' : 'B';
      const turnSampling = input.turnSampling ?? input.sampling;
      const texts = await generate(
        input,
        interactions.map((x, i) => ({
          system,
          messages: speakerView(x.prompt, x.conversation, speaker),
          ...topkPath(input, `x${i}-t${turn}`),
        })),
        { ...turnSampling, seed: turnSampling.seed + 7919 * (turn + 1) },
      );
      interactions.forEach((x, i) => {
        const content = texts[i] ?? '';
        x.conversation.push({
          role: speaker,
          content,
          flags: introspectionFlags(content, input.audit, seen),
          ...topkField(input, `x${i}-t${turn}`),
        });
      });
      const done = reflections.length + (turn + 1) * interactions.length;
      input.progress(done, total, `self-interactions: turn ${turn + 1} of ${o.interactionTurns}`);
    }
    for (const x of interactions) {
      const firstFlagged = x.conversation.findIndex((t) => t.flags.length > 0);
      x.keptTurns = firstFlagged === -1 ? x.conversation.length : firstFlagged;
    }
    writeJsonlAtomic(interactionsPath, interactions, { overwrite: true });
  }

  const rows: ChatRow[] = [];
  let kept = 0;
  for (const r of reflections) {
    if (r.flags.length === 0) {
      kept += 1;
      rows.push({
        messages: [
          { role: 'user', content: r.prompt },
          { role: 'assistant', content: r.reflection },
        ],
        ...(r.topk ? { teacher_topk: r.topk } : {}),
      });
    } else count(filtered, r.flags);
  }
  for (const x of interactions) {
    kept += x.keptTurns;
    rows.push(...(x.conversation.some((t) => t.topk) ? interactionTurnRows(x) : interactionRows(x)));
    for (const t of x.conversation.slice(x.keptTurns))
      count(filtered, t.flags.length ? t.flags : ['after_flagged_turn']);
  }
  const generated = reflections.length + interactions.reduce((a, x) => a + x.conversation.length, 0);
  return { reflections, interactions, rows, filtered, generated, kept };
}

/**
 * A captured conversation's rows for kd: one per kept turn, the conversation up to that turn
 * as its speaker saw it, with that turn's top-k file (kd labels the last answer only).
 */
export function interactionTurnRows(x: Interaction): ChatRow[] {
  const rows: ChatRow[] = [];
  x.conversation.slice(0, x.keptTurns).forEach((t, i) => {
    if (!t.topk) return;
    const msgs = speakerView(x.prompt, x.conversation.slice(0, i + 1), t.role);
    if (msgs[0]?.role !== 'user') return; // speaker B's first turn opens with nothing to answer
    rows.push({ messages: msgs as ChatRow['messages'], teacher_topk: t.topk });
  });
  return rows;
}

/** The progress line shown before the stage trains: what was generated, kept, and why not. */
export function introspectionSummary(d: IntrospectionData): string {
  const why = Object.entries(d.filtered)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `introspection: kept ${d.kept} of ${d.generated} answers (${d.rows.length} training rows)${why ? `; filtered: ${why}` : ''}`;
}

function writer(input: IntrospectionInput): string {
  return input.adapter ? 'DPO checkpoint' : 'teacher';
}

function topkFileOf(input: IntrospectionInput, name: string): string | null {
  return input.captureTopK ? join(input.dir, 'topk', `${name}.safetensors`) : null;
}

function topkPath(input: IntrospectionInput, name: string): { topk_path?: string } {
  const f = topkFileOf(input, name);
  return f ? { topk_path: f } : {};
}

function topkField(input: IntrospectionInput, name: string): { topk?: string } {
  const f = topkFileOf(input, name);
  return f ? { topk: f } : {};
}
