import { describe, expect, it } from 'vitest';
import type { EngineClient } from '../../../src-main/engine/client';
import { EvaluationProgress } from '../../../src-main/evaluation/progress';
import { stageMetrics } from '../../../src-main/evaluation/stages';
import type { EvaluateInput } from '../../../src-main/evaluation/types';

/**
 * An engine whose DPO stage answers like the teacher and whose SFT stage answers away from it:
 * the embeddings are one-hot by answer text, so cosine is 1 for the teacher's text, 0 otherwise.
 */
function fakeEngine(): EngineClient {
  const vocab = new Map<string, number>();
  const oneHot = (t: string): number[] => {
    if (!vocab.has(t)) vocab.set(t, vocab.size);
    const v = new Array<number>(16).fill(0);
    v[vocab.get(t) as number] = 1;
    return v;
  };
  return {
    call: async (method: string, params: Record<string, unknown>) => {
      if (method === 'generate') {
        const adapter = params.adapter as string;
        const items = params.items as { messages: { content: string }[] }[];
        return {
          outputs: items.map((it, i) => ({
            text: adapter === '/dpo' ? `teacher ${it.messages[0]!.content}` : `drift ${i}`,
            finish_reason: 'stop',
          })),
        };
      }
      if (method === 'classifier_predict') return { probs: (params.texts as string[]).map(() => 0.9) };
      if (method === 'embed') return { vectors: (params.texts as string[]).map(oneHot), dim: 16 };
      throw new Error(`unexpected ${method}`);
    },
  } as unknown as EngineClient;
}

describe('stage metrics', () => {
  it('give each stage its cosine to the teacher with the base’s beside it', async () => {
    const questions = ['q0', 'q1', 'q2', 'q3'];
    const input = {
      heldOut: questions.map((q, i) => ({ questionId: i, category: 'c', question: q, teacherAnswer: null })),
      teacherModel: null,
      model: { source: 'default' },
      checkpointId: 'final',
      settings: { temperature: 0.7, topP: 0.95, maxNewTokens: 16 },
      classifierPath: '/c',
      signal: new AbortController().signal,
    } as unknown as EvaluateInput;
    const stages = await stageMetrics(
      fakeEngine(),
      input,
      [
        { stage: 'dpo', checkpointId: 'd', adapterPath: '/dpo' },
        { stage: 'sft', checkpointId: 'final', adapterPath: '/sft' },
      ],
      {
        inCharacter: [0.9, 0.9, 0.1, 0.9],
        distillation: null,
        cosine: [0.2, 0.2, 0.2, 0.2],
        baseCosine: [0.5, 0.5, 0.5, 0.5],
        teacherAnswers: questions.map((q) => `teacher ${q}`),
      },
      new EvaluationProgress(100, () => undefined),
    );
    expect(stages.map((s) => s.stage)).toEqual(['dpo', 'sft']);
    expect(stages[0]!.cosineToTeacher).toMatchObject({ stage: 1, base: 0.5 });
    // The final stage repeats the student's own figures: below the base here.
    expect(stages[1]!.cosineToTeacher?.stage).toBeCloseTo(0.2);
    expect(stages[1]!.cosineToTeacher!.stage).toBeLessThan(stages[1]!.cosineToTeacher!.base);
    expect(stages[1]!.inCharacterShare).toBe(0.75);
  });
});
