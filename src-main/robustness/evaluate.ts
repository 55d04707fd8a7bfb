/**
 * The robustness evaluation: how a character holds when asked who it is, when pushed to drop
 * the persona (four styles, plus the paper's adversarial instruction appended to ordinary
 * held-out questions), and over six-turn conversations scored at every assistant turn. Every
 * model answers at chat's sampling settings (what users see), seeded: the base and the student
 * with no prompt, the teacher WITH the constitution, and each recipe stage's adapter.
 */
import type { GenerateOutput, ModelSpec, SamplingParams } from '../../src-shared/engine-protocol';
import {
  BREAK_STYLES,
  type BreakStyle,
  type RobustnessAnswer,
  type RobustnessModelResult,
  type RobustnessSampling,
  type RobustnessSummary,
  type RobustShare,
} from '../../src-shared/robustness';
import { CancelledError } from '../core/errors';
import type { EngineClient } from '../engine/client';
import { throughCache, type AnswerCache } from '../evaluation/answer-cache';
import { bootstrap, shareInterval } from '../evaluation/intervals';
import { markerScore, type PersonaMarkers } from '../datasets/markers';
import { appendedPrompts, type HeldOutRobustnessPrompts } from './prompt-sets';

/** One model under test: `system` for the teacher; `adapter` for the student and stages. */
export interface RobustnessModel {
  label: string;
  checkpointId: string | null;
  model: ModelSpec;
  adapter?: string;
  system?: string;
}

export interface RobustnessInput {
  runId: string;
  checkpointId: string | null;
  studentContext: string;
  models: readonly RobustnessModel[];
  prompts: HeldOutRobustnessPrompts;
  /** The run's ordinary held-out questions (the appended form uses the first N). */
  heldOutQuestions: readonly string[];
  markers: PersonaMarkers;
  /** The run's in-character classifier; null skips that column. */
  classifierPath: string | null;
  sampling: RobustnessSampling;
  signal?: AbortSignal;
  progress?: (done: number, total: number, message: string) => void;
  /**
   * Where the answers of models without an adapter (base, prompted teacher) are kept between runs
   * (evaluation/answer-cache.ts); absent computes them.
   */
  answerCache?: AnswerCache | null;
}

/** Items per engine call: a batch large enough for throughput, small enough for a timely cancel. */
const CHUNK = 16;

interface SingleItem {
  kind: 'identity' | 'break';
  style: BreakStyle | 'appended' | null;
  prompt: string;
}

function singleItems(input: RobustnessInput): SingleItem[] {
  const p = input.prompts;
  return [
    ...p.identity.map((prompt) => ({ kind: 'identity' as const, style: null, prompt })),
    ...BREAK_STYLES.flatMap((style) =>
      p.break[style].map((prompt) => ({ kind: 'break' as const, style, prompt })),
    ),
    ...appendedPrompts(input.heldOutQuestions, p.appended).map((prompt) => ({
      kind: 'break' as const,
      style: 'appended' as const,
      prompt,
    })),
  ];
}

function samplingParams(s: RobustnessSampling): SamplingParams {
  return {
    temperature: s.temperature,
    top_p: s.topP,
    max_new_tokens: s.maxTokens,
    seed: s.seed,
    ...(s.repetitionPenalty !== 1 ? { repetition_penalty: s.repetitionPenalty } : {}),
  };
}

type Chat = { role: 'user' | 'assistant'; content: string }[];

async function answer(
  engine: EngineClient,
  m: RobustnessModel,
  chats: readonly Chat[],
  sampling: SamplingParams,
  signal: AbortSignal | undefined,
  onChunk: (n: number) => void,
  cache: AnswerCache | null,
): Promise<{ text: string; ended: boolean; tokens: number }[]> {
  const out: { text: string; ended: boolean; tokens: number }[] = [];
  for (let start = 0; start < chats.length; start += CHUNK) {
    if (signal?.aborted) throw new CancelledError('robustness evaluation cancelled');
    const chunk = chats.slice(start, start + CHUNK);
    const call = async (): Promise<GenerateOutput[]> =>
      (
        await engine.call(
          'generate',
          {
            model: m.model,
            ...(m.adapter ? { adapter: m.adapter } : {}),
            items: chunk.map((messages) => ({ ...(m.system ? { system: m.system } : {}), messages })),
            sampling,
            batch_size: CHUNK,
          },
          { signal },
        )
      ).outputs;
    // A model without an adapter answers the same chunk the same way in every run: kept.
    const outputs =
      cache && !m.adapter
        ? await throughCache(
            cache,
            {
              model: m.model,
              ...(m.system ? { system: m.system } : {}),
              prompts: chunk.map((c) => JSON.stringify(c)),
              sampling,
              batch: CHUNK,
            },
            call,
          )
        : await call();
    for (const o of outputs)
      out.push({ text: o.text.trim(), ended: o.finish_reason === 'stop', tokens: o.completion_tokens });
    onChunk(chunk.length);
  }
  return out;
}

function share(flags: readonly boolean[]): RobustShare {
  const n = flags.length;
  return { share: n ? flags.filter(Boolean).length / n : NaN, interval: shareInterval(flags), n };
}

/** Multi-turn: the interval resamples whole conversations (turns of one conversation are not independent). */
function conversationShare(held: readonly boolean[][]): RobustShare {
  const flat = held.flat();
  const interval = bootstrap(held.length, (ix) => {
    let h = 0;
    let n = 0;
    for (const i of ix)
      for (const f of held[i] ?? []) {
        h += f ? 1 : 0;
        n += 1;
      }
    return n ? h / n : NaN;
  });
  return { share: flat.length ? flat.filter(Boolean).length / flat.length : NaN, interval, n: flat.length };
}

export async function evaluateRobustness(
  engine: EngineClient,
  input: RobustnessInput,
): Promise<{
  summary: RobustnessSummary;
  answers: RobustnessAnswer[];
}> {
  const started = Date.now();
  const singles = singleItems(input);
  const conversations = input.prompts.multiturn;
  const turns = Math.min(...conversations.map((c) => c.length));
  const perModel = singles.length + conversations.length * turns;
  const total = perModel * input.models.length;
  let done = 0;
  const sampling = samplingParams(input.sampling);
  const all: RobustnessAnswer[] = [];
  const results: RobustnessModelResult[] = [];
  for (const m of input.models) {
    const tick = (n: number): void => {
      done += n;
      input.progress?.(done, total, `robustness: ${m.label}`);
    };
    const mine: RobustnessAnswer[] = [];
    const singleOut = await answer(
      engine,
      m,
      singles.map((s) => [{ role: 'user', content: s.prompt }]),
      sampling,
      input.signal,
      tick,
      input.answerCache ?? null,
    );
    singles.forEach((s, i) => {
      const o = singleOut[i] as { text: string; ended: boolean; tokens: number };
      const score = markerScore(o.text, input.markers);
      mine.push({
        label: m.label,
        kind: s.kind,
        style: s.style,
        conversation: null,
        turn: null,
        prompt: s.prompt,
        answer: o.text,
        ...score,
        ended: o.ended,
        inCharacter: null,
      });
    });
    // Multi-turn: each model continues its own conversation; every turn's answer is scored.
    const histories: Chat[] = conversations.map(() => []);
    for (let t = 0; t < turns; t++) {
      const chats = histories.map((h, c) => [
        ...h,
        { role: 'user' as const, content: conversations[c]?.[t] as string },
      ]);
      const outs = await answer(
        engine,
        m,
        chats,
        { ...sampling, seed: input.sampling.seed + t + 1 },
        input.signal,
        tick,
        input.answerCache ?? null,
      );
      outs.forEach((o, c) => {
        histories[c] = [...(chats[c] as Chat), { role: 'assistant', content: o.text }];
        const score = markerScore(o.text, input.markers);
        mine.push({
          label: m.label,
          kind: 'multiturn',
          style: null,
          conversation: c,
          turn: t,
          prompt: conversations[c]?.[t] as string,
          answer: o.text,
          ...score,
          ended: o.ended,
          inCharacter: null,
        });
      });
    }
    if (input.classifierPath) {
      const predicted = await engine.call(
        'classifier_predict',
        { path: input.classifierPath, texts: mine.map((a) => a.answer) },
        { signal: input.signal },
      );
      mine.forEach((a, i) => (a.inCharacter = predicted.probs[i] ?? null));
    }
    const tokens = [...singleOut.map((o) => o.tokens)];
    results.push(summarize(m, mine, turns, conversations.length, tokens));
    all.push(...mine);
  }
  return {
    summary: {
      runId: input.runId,
      checkpointId: input.checkpointId,
      studentContext: input.studentContext,
      sampling: input.sampling,
      counts: {
        identity: input.prompts.identity.length,
        break: BREAK_STYLES.reduce((a, s) => a + input.prompts.break[s].length, 0),
        appended: singles.filter((s) => s.style === 'appended').length,
        conversations: conversations.length,
        turns,
      },
      models: results,
      wallMs: Date.now() - started,
    },
    answers: all,
  };
}

function summarize(
  m: RobustnessModel,
  answers: readonly RobustnessAnswer[],
  turns: number,
  nConv: number,
  singleTokens: readonly number[],
): RobustnessModelResult {
  const identity = answers.filter((a) => a.kind === 'identity');
  const brk = answers.filter((a) => a.kind === 'break');
  const multi = answers.filter((a) => a.kind === 'multiturn');
  const byConv: boolean[][] = Array.from({ length: nConv }, (_, c) =>
    multi
      .filter((a) => a.conversation === c)
      .sort((a, b) => (a.turn ?? 0) - (b.turn ?? 0))
      .map((a) => a.held),
  );
  const styles = [...BREAK_STYLES, 'appended' as const];
  const scored = answers.filter((a) => a.inCharacter !== null);
  return {
    label: m.label,
    checkpointId: m.checkpointId,
    identity: share(identity.map((a) => a.held)),
    namesSelf: share(identity.map((a) => a.namesSelf)),
    break: share(brk.map((a) => a.held)),
    breakByStyle: Object.fromEntries(
      styles.map((s) => [s, share(brk.filter((a) => a.style === s).map((a) => a.held))]),
    ) as Record<BreakStyle | 'appended', RobustShare>,
    multiTurn: conversationShare(byConv),
    multiTurnByTurn: Array.from({ length: turns }, (_, t) =>
      share(multi.filter((a) => a.turn === t).map((a) => a.held)),
    ),
    classifier: scored.length ? share(scored.map((a) => (a.inCharacter ?? 0) >= 0.5)) : null,
    claimsAi: share(answers.map((a) => a.claimsAi)),
    ended: share(answers.map((a) => a.ended)),
    meanTokens: singleTokens.length ? singleTokens.reduce((a, b) => a + b, 0) / singleTokens.length : NaN,
  };
}
