/**
 * The evaluation orchestrator. On the held-out questions (never trained on) it compares
 *   student: base model + checkpoint adapter, NO system prompt
 *   teacher: base model WITH the constitution (the answers stored by the generate step)
 *   base:    base model, NO system prompt
 * with greedy decoding, and measures: difflib ratio and embedding cosine to the teacher; an
 * in-character classifier fitted on TRAINING questions (teacher-with-prompt answers = 1,
 * base-without-prompt answers = 0) and applied to each model's held-out answers; keyword
 * presence; validation loss and perplexity of the adapter; capability and safety sets (base vs
 * student); an optional LLM judge (pairwise, Elo); and the promotion gate.
 *
 * Every number comes from the models' real outputs; nothing is filled in when a part cannot run:
 * it is NaN/null with a note saying why.
 */
import { StudioError } from '../core/errors';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EvaluationItemRow, EvaluationSummary, ModelRole } from '../../src-shared/contract';
import type { ModelSpec, SamplingParams } from '../../src-shared/engine-protocol';
import type { EngineClient } from '../engine/client';
import { generateAll } from '../engine/generate-all';
import type { EvaluationSettings } from '../core/scales';
import type { EndpointSettings } from '../core/settings';
import { isCapabilityCorrect, isRefusal, type CapabilityItem, type SafetySet } from '../questions/eval-sets';
import type { EvaluationItemRecord } from '../store';
import {
  cosineSimilarity,
  difflibRatio,
  keywordHits,
  keywordPresence,
  mean,
  buildPairwiseJudgePrompt,
  eloRatings,
  parseJudgeVerdict,
  promotionGate,
  reconcileSwappedVerdicts,
  verdictToJudgement,
  type JudgeVerdict,
  type PairwiseJudgement,
} from './metrics';

/** One held-out question with the teacher's stored answer (when the generate step made one). */
export interface HeldOutQuestion {
  questionId: number;
  category: string;
  question: string;
  teacherAnswer: string | null;
}

export interface EvaluateInput {
  runId: string;
  checkpointId: string | null;
  /** The checkpoint's adapter folder; null evaluates the base model as the student. */
  adapterPath: string | null;
  model: ModelSpec;
  systemPrompt: string;
  /** The character's name, for the judge prompt. */
  characterName: string;
  keywords: readonly string[];
  heldOut: readonly HeldOutQuestion[];
  /** Training questions with the teacher's answers: the classifier's positives and its negatives' prompts. */
  trainPairs: readonly { question: string; answer: string }[];
  /** val.jsonl ({"messages": [user, assistant]}) scored with the adapter; null skips. */
  valPath: string | null;
  /** resources/questions/capability.json (loadCapabilitySet). */
  capability: readonly CapabilityItem[];
  /** resources/questions/safety.json (loadSafetySet): every request should be refused. */
  safety: SafetySet;
  settings: EvaluationSettings;
  /** Max new tokens of the teacher answers (for teacher answers the run has to generate). */
  teacherMaxNewTokens: number;
  judge: EndpointSettings | null;
  /** Where the classifier is saved, and the results JSON written. */
  classifierPath: string;
  resultsPath: string;
  signal?: AbortSignal;
  progress?: (done: number, total: number, message?: string) => void;
}

export interface RoleScores {
  capability: { id: string; question: string; answer: string; passed: boolean }[];
  safety: { id: string; request: string; answer: string; refused: boolean }[];
}

export interface EvaluationResult {
  summary: EvaluationSummary;
  items: EvaluationItemRecord[];
  classifier: {
    trainAccuracy: number;
    cvAccuracy: number | null;
    n: number;
    positives: number;
    negatives: number;
  };
  capabilityDetail: Record<'student' | 'base', RoleScores['capability']>;
  safetyDetail: Record<'student' | 'base', RoleScores['safety']>;
  judge: JudgeOutcome | null;
  notes: string[];
  generatedAt: string;
}

export interface JudgeOutcome {
  model: string;
  comparisons: { questionId: number; a: ModelRole; b: ModelRole; verdict: JudgeVerdict | null }[];
  elo: Record<ModelRole, number>;
}

/** Judge calls time out after this long (ms): a hung endpoint must not hang the run. */
const JUDGE_TIMEOUT_MS = 60_000;
/** Pairs judged per comparison kind (student-teacher, student-base, teacher-base). */
const JUDGE_MAX_QUESTIONS = 20;

/** The judge could not be asked, or gave no usable verdict; carries no credentials. */
/** The judge endpoint failed or answered with something that is not a verdict. */
export class JudgeError extends StudioError {
  constructor(message: string, detail: { status?: number; replies?: number } = {}) {
    super(message, 'judge', detail);
  }
}

async function askJudge(
  endpoint: EndpointSettings,
  messages: ReturnType<typeof buildPairwiseJudgePrompt>,
  signal?: AbortSignal,
): Promise<string> {
  const url = `${endpoint.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const timeout = AbortSignal.timeout(JUDGE_TIMEOUT_MS);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}),
    },
    body: JSON.stringify({ model: endpoint.model, messages, temperature: 0, max_tokens: 300 }),
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  if (!res.ok) throw new JudgeError(`judge endpoint answered HTTP ${res.status}`, { status: res.status });
  let body: { choices?: { message?: { content?: unknown } }[] };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new JudgeError('judge endpoint answered with a body that is not JSON', { status: res.status });
  }
  const content = body?.choices?.[0]?.message?.content;
  return typeof content === 'string' ? content : '';
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
  const comparisons: JudgeOutcome['comparisons'] = [];
  const judgements: PairwiseJudgement[] = [];
  for (const item of items.slice(0, JUDGE_MAX_QUESTIONS)) {
    for (const [a, b] of pairs) {
      const ask = async (x: ModelRole, y: ModelRole): Promise<JudgeVerdict | null> =>
        parseJudgeVerdict(
          await askJudge(
            endpoint,
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
  input: Pick<EvaluateInput, 'judge' | 'characterName' | 'systemPrompt'>,
  items: readonly EvaluationItemRow[],
  notes: string[],
  signal?: AbortSignal,
): Promise<JudgeOutcome | null> {
  if (!input.judge || !input.judge.baseUrl || !input.judge.model) {
    notes.push('no judge endpoint configured: pairwise LLM judge and Elo skipped');
    return null;
  }
  try {
    return await runJudge(input.judge, input.characterName, input.systemPrompt, items, signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    notes.push(`LLM judge failed, no Elo: ${(error as Error).message.split('\n')[0]}`);
    return null;
  }
}

const ROLES: readonly ModelRole[] = ['student', 'teacher', 'base'];

function greedy(settings: EvaluationSettings, maxNewTokens = settings.maxNewTokens): SamplingParams {
  return { temperature: settings.temperature, top_p: 1, max_new_tokens: maxNewTokens, seed: 0 };
}

function share(probs: readonly number[]): number {
  return probs.length ? probs.filter((p) => p >= 0.5).length / probs.length : NaN;
}

/** Val rows of a train/val JSONL file: the last user message and the assistant reply. */
export function readValExamples(path: string): { prompt: string; response: string }[] {
  if (!existsSync(path)) return [];
  const out: { prompt: string; response: string }[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as { messages?: { role: string; content: string }[] };
    const msgs = row.messages ?? [];
    const user = msgs.find((m) => m.role === 'user');
    const assistant = msgs.find((m) => m.role === 'assistant');
    if (user && assistant) out.push({ prompt: user.content, response: assistant.content });
  }
  return out;
}

export async function evaluateRun(engine: EngineClient, input: EvaluateInput): Promise<EvaluationResult> {
  const s = input.settings;
  const notes: string[] = [];
  const signal = input.signal;
  const questions = input.heldOut.map((q) => q.question);
  const chunk = 8;
  const n = questions.length;
  const negN = Math.min(s.classifierNegatives, input.trainPairs.length);
  const cap = s.capabilityItems > 0 ? input.capability.slice(0, s.capabilityItems) : [...input.capability];
  const saf = s.safetyItems > 0 ? input.safety.items.slice(0, s.safetyItems) : [...input.safety.items];
  const missingTeacher = input.heldOut.filter((q) => !q.teacherAnswer);
  // Work units for the progress bar: one per generated answer, plus the scoring phases.
  const total = 2 * n + missingTeacher.length + negN + 2 * cap.length + 2 * saf.length + 3;
  let done = 0;
  const tick = (k: number, message: string): void => {
    done += k;
    input.progress?.(Math.min(done, total), total, message);
  };
  const phase = (message: string) => {
    const start = done;
    return (d: number): void => {
      input.progress?.(Math.min(start + d, total), total, message);
    };
  };
  const adapter = input.adapterPath ?? undefined;
  if (!adapter) notes.push('no checkpoint: the student is the base model without a prompt');

  // 1. Answers of the three models on the held-out questions.
  const studentOut = await generateAll(engine, {
    model: input.model,
    adapter,
    prompts: questions,
    sampling: greedy(s),
    chunkSize: chunk,
    signal,
    onProgress: phase('student answers (no prompt)'),
  });
  done += n;
  const baseOut = await generateAll(engine, {
    model: input.model,
    prompts: questions,
    sampling: greedy(s),
    chunkSize: chunk,
    signal,
    onProgress: phase('base answers (no prompt)'),
  });
  done += n;
  const teacherAnswers = new Map<number, string>();
  for (const q of input.heldOut) if (q.teacherAnswer) teacherAnswers.set(q.questionId, q.teacherAnswer);
  if (missingTeacher.length > 0) {
    const outs = await generateAll(engine, {
      model: input.model,
      system: input.systemPrompt,
      prompts: missingTeacher.map((q) => q.question),
      sampling: greedy(s, input.teacherMaxNewTokens),
      chunkSize: chunk,
      signal,
      onProgress: phase('teacher answers (with the constitution)'),
    });
    missingTeacher.forEach((q, i) => teacherAnswers.set(q.questionId, outs[i]?.text ?? ''));
    done += missingTeacher.length;
  }
  const answers: Record<ModelRole, string[]> = {
    student: studentOut.map((o) => o.text.trim()),
    base: baseOut.map((o) => o.text.trim()),
    teacher: input.heldOut.map((q) => (teacherAnswers.get(q.questionId) ?? '').trim()),
  };

  // 2. In-character classifier on TRAINING questions only.
  const negPrompts = input.trainPairs.slice(0, negN).map((p) => p.question);
  const negOut = await generateAll(engine, {
    model: input.model,
    prompts: negPrompts,
    sampling: greedy(s),
    chunkSize: chunk,
    signal,
    onProgress: phase('classifier negatives (base, no prompt, training questions)'),
  });
  done += negN;
  const positives = input.trainPairs
    .slice(0, Math.max(negN, Math.min(input.trainPairs.length, negN)))
    .map((p) => p.answer);
  const negatives = negOut.map((o) => o.text.trim());
  mkdirSync(dirname(input.classifierPath), { recursive: true });
  const fit = await engine.call(
    'classifier_fit',
    {
      texts: [...positives, ...negatives],
      labels: [...positives.map(() => 1), ...negatives.map(() => 0)],
      save_path: input.classifierPath,
      seed: 0,
    },
    { signal },
  );
  const probs = await engine.call(
    'classifier_predict',
    { path: input.classifierPath, texts: [...answers.student, ...answers.teacher, ...answers.base] },
    { signal },
  );
  const p: Record<ModelRole, number[]> = {
    student: probs.probs.slice(0, n),
    teacher: probs.probs.slice(n, 2 * n),
    base: probs.probs.slice(2 * n, 3 * n),
  };
  tick(1, 'in-character classifier');

  // 3. Similarity to the teacher: difflib ratio and embedding cosine.
  const emb = await engine.call(
    'embed',
    { texts: [...answers.student, ...answers.teacher, ...answers.base] },
    { signal },
  );
  const vec = (role: ModelRole, i: number): number[] => emb.vectors[ROLES.indexOf(role) * n + i] ?? [];
  const items: EvaluationItemRecord[] = input.heldOut.map((q, i) => {
    const row: EvaluationItemRow = {
      questionId: q.questionId,
      category: q.category,
      question: q.question,
      answers: {
        student: answers.student[i] ?? '',
        teacher: answers.teacher[i] ?? '',
        base: answers.base[i] ?? '',
      },
      inCharacter: { student: p.student[i] ?? NaN, teacher: p.teacher[i] ?? NaN, base: p.base[i] ?? NaN },
      similarityToTeacher: {
        student: {
          difflib: difflibRatio(answers.student[i] ?? '', answers.teacher[i] ?? ''),
          cosine: cosineSimilarity(vec('student', i), vec('teacher', i)),
        },
        base: {
          difflib: difflibRatio(answers.base[i] ?? '', answers.teacher[i] ?? ''),
          cosine: cosineSimilarity(vec('base', i), vec('teacher', i)),
        },
      },
    };
    return {
      ...row,
      extraScores: {
        keywords: {
          student: keywordHits(row.answers.student, input.keywords).hits,
          teacher: keywordHits(row.answers.teacher, input.keywords).hits,
          base: keywordHits(row.answers.base, input.keywords).hits,
        },
        tokens: {
          student: studentOut[i]?.completion_tokens ?? null,
          base: baseOut[i]?.completion_tokens ?? null,
        },
      },
    };
  });
  tick(1, 'similarity to the teacher');

  // 4. Validation loss and perplexity of the adapter on val.jsonl.
  let valLoss: number | null = null;
  let perplexity: number | null = null;
  const val = input.valPath ? readValExamples(input.valPath) : [];
  const valItems = s.valScoreItems > 0 ? val.slice(0, s.valScoreItems) : val;
  if (valItems.length > 0) {
    const scored = await engine.call(
      'score',
      {
        model: input.model,
        ...(adapter ? { adapter } : {}),
        items: valItems.map((v) => ({
          messages: [{ role: 'user' as const, content: v.prompt }],
          response: v.response,
        })),
      },
      { signal },
    );
    const nll = scored.scores.reduce((a, x) => a - x.logprob, 0);
    const tokens = scored.scores.reduce((a, x) => a + x.tokens, 0);
    if (tokens > 0) {
      valLoss = nll / tokens;
      perplexity = Math.exp(valLoss);
    }
  } else {
    notes.push('no validation examples: validation loss not measured');
  }
  tick(1, 'validation loss');

  // 5. Capability and safety sets, base vs student (no prompt for either).
  const capabilityDetail: EvaluationResult['capabilityDetail'] = { student: [], base: [] };
  const safetyDetail: EvaluationResult['safetyDetail'] = { student: [], base: [] };
  for (const role of ['student', 'base'] as const) {
    const roleAdapter = role === 'student' ? adapter : undefined;
    if (cap.length > 0) {
      const outs = await generateAll(engine, {
        model: input.model,
        adapter: roleAdapter,
        prompts: cap.map((c) => c.question),
        sampling: greedy(s),
        chunkSize: chunk,
        signal,
        onProgress: phase(`capability set (${role})`),
      });
      done += cap.length;
      capabilityDetail[role] = cap.map((c, i) => {
        const answer = outs[i]?.text.trim() ?? '';
        return { id: c.id, question: c.question, answer, passed: isCapabilityCorrect(c, answer) };
      });
    }
    if (saf.length > 0) {
      const outs = await generateAll(engine, {
        model: input.model,
        adapter: roleAdapter,
        prompts: saf.map((c) => c.request),
        sampling: greedy(s),
        chunkSize: chunk,
        signal,
        onProgress: phase(`safety set (${role})`),
      });
      done += saf.length;
      safetyDetail[role] = saf.map((c, i) => {
        const answer = outs[i]?.text.trim() ?? '';
        return { id: c.id, request: c.request, answer, refused: isRefusal(input.safety, c, answer) };
      });
    }
  }
  if (cap.length === 0) notes.push('no capability set found: capability not measured');
  if (saf.length === 0) notes.push('no safety set found: safety not measured');
  const shareOf = (xs: readonly boolean[]): number =>
    xs.length ? xs.filter(Boolean).length / xs.length : NaN;
  const capScore = (role: 'student' | 'base'): number => shareOf(capabilityDetail[role].map((d) => d.passed));
  const safScore = (role: 'student' | 'base'): number => shareOf(safetyDetail[role].map((d) => d.refused));

  // 6. Optional LLM judge.
  const judge = await runOptionalJudge(input, items, notes, signal);

  const inCharacterShare = { student: share(p.student), teacher: share(p.teacher), base: share(p.base) };
  const capability = { student: capScore('student'), base: capScore('base'), teacher: NaN };
  const safety = { student: safScore('student'), base: safScore('base'), teacher: NaN };
  const gate = promotionGate({
    score: 'inCharacterShare',
    student: inCharacterShare.student,
    base: inCharacterShare.base,
    safetyStudent: safety.student,
    safetyBase: safety.base,
  });
  const summary: EvaluationSummary = {
    runId: input.runId,
    checkpointId: input.checkpointId,
    n,
    inCharacterShare,
    difflib: {
      student: mean(items.map((it) => it.similarityToTeacher.student.difflib)),
      base: mean(items.map((it) => it.similarityToTeacher.base.difflib)),
    },
    cosine: {
      student: mean(items.map((it) => it.similarityToTeacher.student.cosine)),
      base: mean(items.map((it) => it.similarityToTeacher.base.cosine)),
    },
    keywordPresence: {
      student: keywordPresence(answers.student, input.keywords),
      teacher: keywordPresence(answers.teacher, input.keywords),
      base: keywordPresence(answers.base, input.keywords),
    },
    valLoss,
    perplexity,
    capability,
    safety,
    elo: judge?.elo ?? null,
    gate,
  };
  tick(1, 'done');
  const result: EvaluationResult = {
    summary,
    items,
    classifier: {
      trainAccuracy: fit.train_accuracy,
      cvAccuracy: fit.cv_accuracy,
      n: fit.n,
      positives: positives.length,
      negatives: negatives.length,
    },
    capabilityDetail,
    safetyDetail,
    judge,
    notes,
    generatedAt: new Date().toISOString(),
  };
  mkdirSync(dirname(input.resultsPath), { recursive: true });
  writeFileSync(input.resultsPath, `${JSON.stringify(result, jsonNumbers, 2)}\n`);
  return result;
}

/** NaN and Infinity are not JSON: write them as null. */
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}
