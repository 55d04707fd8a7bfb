/**
 * The optional LLM judge: pairwise comparisons of the held-out answers of student, teacher and
 * base through an OpenAI-compatible endpoint (each pair asked in both orders), then Elo; or,
 * with no endpoint but a local judge model, the engine itself as the judge (judge-local.ts).
 */
import type { EvaluationItemRow, ModelRole } from '../../src-shared/contract';
import { StudioError, errorMessage } from '../core/errors';
import type { EndpointSettings } from '../core/settings';
import { ProviderError } from '../providers/errors';
import { OpenAIClient } from '../providers/openai-client';
import { formatModelSpec } from '../core/model-spec';
import type { EngineClient } from '../engine/client';
import { runLocalJudge } from './judge-local';
import {
  buildPairwiseJudgePrompt,
  eloRatings,
  parseJudgeVerdict,
  reconcileSwappedVerdicts,
  verdictToJudgement,
  type JudgeVerdict,
  type PairwiseJudgement,
} from './metrics';
import type { EvaluateInput, JudgeOutcome } from './types';

/** Judge calls time out after this long (ms): a hung endpoint must not hang the run. */
const JUDGE_TIMEOUT_MS = 60_000;
/** Pairs judged per comparison kind (student-teacher, student-base, teacher-base). */
const JUDGE_MAX_QUESTIONS = 20;

/** The judge endpoint failed or gave no usable verdict; carries no credentials. */
export class JudgeError extends StudioError {
  constructor(message: string, detail: { status?: number; replies?: number } = {}) {
    super(message, 'judge', detail);
  }
}

/** One verdict request through the shared OpenAI-compatible client (no retries: a judge that fails is skipped). */
async function askJudge(
  client: OpenAIClient,
  model: string,
  messages: ReturnType<typeof buildPairwiseJudgePrompt>,
  signal?: AbortSignal,
): Promise<string> {
  try {
    const reply = await client.chat(
      { model, messages, temperature: 0, max_tokens: 300 },
      signal ?? new AbortController().signal,
    );
    return reply.text;
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    const status = error.status ?? undefined;
    if (error.code === 'bad_response')
      throw new JudgeError('judge endpoint answered with a body that is not JSON', { status });
    if (error.code === 'http_error' || error.code === 'rate_limited')
      throw new JudgeError(`judge endpoint answered HTTP ${status ?? '?'}`, { status });
    if (error.code === 'cancelled') throw error;
    throw new JudgeError(`judge endpoint could not be reached (${error.code})`, {});
  }
}

/**
 * Pairwise judging of student, teacher and base (each pair in both orders, reconciled with
 * reconcileSwappedVerdicts), then Elo over the verdicts. A role no readable verdict involved gets
 * NaN, never the initial rating; no readable verdict at all, or a failed request, is a JudgeError.
 */
export async function runJudge(
  endpoint: EndpointSettings,
  character: string,
  constitution: string,
  items: readonly EvaluationItemRow[],
  signal?: AbortSignal,
): Promise<JudgeOutcome> {
  const pairs: [ModelRole, ModelRole][] = [
    ['student', 'teacher'],
    ['student', 'base'],
    ['teacher', 'base'],
  ];
  const client = new OpenAIClient({
    baseUrl: endpoint.baseUrl,
    apiKey: endpoint.apiKey,
    maxAttempts: 1,
    timeoutMs: JUDGE_TIMEOUT_MS,
    name: 'judge',
  });
  const comparisons: JudgeOutcome['comparisons'] = [];
  const judgements: PairwiseJudgement[] = [];
  for (const item of items.slice(0, JUDGE_MAX_QUESTIONS)) {
    for (const [a, b] of pairs) {
      const ask = async (x: ModelRole, y: ModelRole): Promise<JudgeVerdict | null> =>
        parseJudgeVerdict(
          await askJudge(
            client,
            endpoint.model,
            buildPairwiseJudgePrompt({
              question: item.question,
              answerA: item.answers[x],
              answerB: item.answers[y],
              character,
              constitution,
            }),
            signal,
          ),
        );
      const verdict = reconcileSwappedVerdicts(await ask(a, b), await ask(b, a));
      comparisons.push({ questionId: item.questionId, a, b, verdict });
      const j = verdictToJudgement(a, b, verdict);
      if (j) judgements.push(j);
    }
  }
  if (judgements.length === 0) {
    throw new JudgeError(`judge gave no readable verdict in ${comparisons.length * 2} replies`, {
      replies: comparisons.length * 2,
    });
  }
  const elo = eloRatings(judgements, { players: ['student', 'teacher', 'base'] });
  const rated = new Set(judgements.flatMap((j) => [j.a, j.b]));
  const rating = (role: ModelRole): number => (rated.has(role) ? (elo[role] ?? NaN) : NaN);
  return {
    model: endpoint.model,
    comparisons,
    elo: { student: rating('student'), teacher: rating('teacher'), base: rating('base') },
  };
}

/**
 * The evaluation's judge step: null with a note when no endpoint is configured or the judge
 * fails (HTTP error, unreachable, no readable verdict); the run itself goes on without Elo.
 */
export async function runOptionalJudge(
  input: Pick<EvaluateInput, 'judge' | 'characterName' | 'systemPrompt' | 'localJudge'>,
  items: readonly EvaluationItemRow[],
  notes: string[],
  signal?: AbortSignal,
  engine?: EngineClient,
): Promise<JudgeOutcome | null> {
  const endpoint = Boolean(input.judge?.baseUrl && input.judge.model);
  if (!endpoint && input.localJudge && engine) {
    try {
      const judged = await runLocalJudge(
        engine,
        { model: input.localJudge, character: input.characterName, constitution: input.systemPrompt },
        items,
        JUDGE_MAX_QUESTIONS,
        signal,
      );
      return { model: `local judge ${formatModelSpec(input.localJudge)}`, ...judged };
    } catch (error) {
      if (signal?.aborted) throw error;
      notes.push(`local judge failed, no Elo: ${errorMessage(error)}`);
      return null;
    }
  }
  if (!input.judge || !input.judge.baseUrl || !input.judge.model) {
    notes.push('no judge endpoint configured: pairwise LLM judge and Elo skipped');
    return null;
  }
  try {
    return await runJudge(input.judge, input.characterName, input.systemPrompt, items, signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    notes.push(`LLM judge failed, no Elo: ${errorMessage(error)}`);
    return null;
  }
}
