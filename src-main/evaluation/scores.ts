/**
 * Phases 3-5: per-item similarity to the teacher (difflib ratio, embedding cosine) and keyword
 * hits; validation loss and perplexity of the adapter on val.jsonl; capability and safety sets,
 * base vs student (no prompt for either).
 */
import { existsSync } from 'node:fs';
import type { EvaluationItemRow, ModelRole } from '../../src-shared/contract';
import { readJsonl } from '../datasets/jsonl';
import type { EngineClient } from '../engine/client';
import { isCapabilityCorrect, isRefusal } from '../questions/eval-sets';
import type { EvaluationItemRecord } from '../store';
import { answerWithoutPrompt, greedy, type HeldOutAnswers } from './answers';
import { cosineSimilarity, difflibRatio, keywordHits } from './metrics';
import type { EvaluationProgress } from './progress';
import type { CapabilityDetail, EvaluateInput, SafetyDetail } from './types';

const ROLES: readonly ModelRole[] = ['student', 'teacher', 'base'];

/** One stored item per held-out question: the three answers and their scores. */
export async function scoredItems(
  engine: EngineClient,
  input: EvaluateInput,
  held: HeldOutAnswers,
  inCharacter: Record<ModelRole, number[]>,
  progress: EvaluationProgress,
): Promise<EvaluationItemRecord[]> {
  const { answers } = held;
  const n = input.heldOut.length;
  const emb = await engine.call(
    'embed',
    { texts: [...answers.student, ...answers.teacher, ...answers.base] },
    { signal: input.signal },
  );
  const vec = (role: ModelRole, i: number): number[] => emb.vectors[ROLES.indexOf(role) * n + i] ?? [];
  const items = input.heldOut.map((q, i): EvaluationItemRecord => {
    const row: EvaluationItemRow = {
      questionId: q.questionId,
      category: q.category,
      question: q.question,
      answers: {
        student: answers.student[i] ?? '',
        teacher: answers.teacher[i] ?? '',
        base: answers.base[i] ?? '',
      },
      inCharacter: {
        student: inCharacter.student[i] ?? NaN,
        teacher: inCharacter.teacher[i] ?? NaN,
        base: inCharacter.base[i] ?? NaN,
      },
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
        tokens: { student: held.tokens.student[i] ?? null, base: held.tokens.base[i] ?? null },
      },
    };
  });
  progress.tick(1, 'similarity to the teacher');
  return items;
}

/** Val rows of a train/val JSONL file: the last user message and the assistant reply. */
export function readValExamples(path: string): { prompt: string; response: string }[] {
  if (!existsSync(path)) return [];
  const out: { prompt: string; response: string }[] = [];
  const { rows } = readJsonl<{ messages?: { role: string; content: string }[] }>(path, { strict: true });
  for (const row of rows) {
    const msgs = row.messages ?? [];
    const user = msgs.find((m) => m.role === 'user');
    const assistant = msgs.find((m) => m.role === 'assistant');
    if (user && assistant) out.push({ prompt: user.content, response: assistant.content });
  }
  return out;
}

/** Mean NLL per token of the val answers under the student, and its exp; nulls when nothing to score. */
export async function validationLoss(
  engine: EngineClient,
  input: EvaluateInput,
  notes: string[],
  progress: EvaluationProgress,
): Promise<{ valLoss: number | null; perplexity: number | null }> {
  let valLoss: number | null = null;
  let perplexity: number | null = null;
  const val = input.valPath ? readValExamples(input.valPath) : [];
  const limit = input.settings.valScoreItems;
  const valItems = limit > 0 ? val.slice(0, limit) : val;
  if (valItems.length > 0) {
    const scored = await engine.call(
      'score',
      {
        model: input.model,
        ...(input.adapterPath ? { adapter: input.adapterPath } : {}),
        items: valItems.map((v) => ({
          messages: [{ role: 'user' as const, content: v.prompt }],
          response: v.response,
        })),
      },
      { signal: input.signal },
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
  progress.tick(1, 'validation loss');
  return { valLoss, perplexity };
}

export interface GuardrailDetail {
  capability: Record<'student' | 'base', CapabilityDetail[]>;
  safety: Record<'student' | 'base', SafetyDetail[]>;
}

/** The items of the capability and safety sets this scale uses (0 = all). */
export function guardrailItems(input: EvaluateInput): {
  capability: EvaluateInput['capability'];
  safety: EvaluateInput['safety']['items'];
} {
  const s = input.settings;
  return {
    capability: s.capabilityItems > 0 ? input.capability.slice(0, s.capabilityItems) : [...input.capability],
    safety: s.safetyItems > 0 ? input.safety.items.slice(0, s.safetyItems) : [...input.safety.items],
  };
}

/** Capability answers checked for correctness, safety requests for refusal; student and base. */
export async function guardrails(
  engine: EngineClient,
  input: EvaluateInput,
  notes: string[],
  progress: EvaluationProgress,
): Promise<GuardrailDetail> {
  const { capability: cap, safety: saf } = guardrailItems(input);
  const detail: GuardrailDetail = {
    capability: { student: [], base: [] },
    safety: { student: [], base: [] },
  };
  for (const role of ['student', 'base'] as const) {
    if (cap.length > 0) {
      const outs = await answerWithoutPrompt(
        engine,
        input,
        role,
        cap.map((c) => c.question),
        progress,
        `capability set (${role})`,
        greedy(input.settings),
      );
      detail.capability[role] = cap.map((c, i) => {
        const answer = outs[i]?.text.trim() ?? '';
        return { id: c.id, question: c.question, answer, passed: isCapabilityCorrect(c, answer) };
      });
    }
    if (saf.length > 0) {
      const outs = await answerWithoutPrompt(
        engine,
        input,
        role,
        saf.map((c) => c.request),
        progress,
        `safety set (${role})`,
        greedy(input.settings),
      );
      detail.safety[role] = saf.map((c, i) => {
        const answer = outs[i]?.text.trim() ?? '';
        return { id: c.id, request: c.request, answer, refused: isRefusal(input.safety, c, answer) };
      });
    }
  }
  if (cap.length === 0) notes.push('no capability set found: capability not measured');
  if (saf.length === 0) notes.push('no safety set found: safety not measured');
  return detail;
}
