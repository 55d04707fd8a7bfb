/**
 * Phase 2: the in-character classifier, fitted on TRAINING questions only (teacher-with-prompt
 * answers = 1, base-without-prompt answers = 0) and applied to each model's held-out answers.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ModelRole } from '../../src-shared/contract';
import type { EngineClient } from '../engine/client';
import { answerWithoutPrompt } from './answers';
import type { EvaluationProgress } from './progress';
import type { ClassifierOutcome, EvaluateInput } from './types';

export interface InCharacter {
  /** P(in character) of each held-out answer, per model. */
  probs: Record<ModelRole, number[]>;
  classifier: ClassifierOutcome;
}

export async function inCharacterProbabilities(
  engine: EngineClient,
  input: EvaluateInput,
  answers: Record<ModelRole, string[]>,
  progress: EvaluationProgress,
): Promise<InCharacter> {
  const n = input.heldOut.length;
  const negN = Math.min(input.settings.classifierNegatives, input.trainPairs.length);
  const negOut = await answerWithoutPrompt(
    engine,
    input,
    'base',
    input.trainPairs.slice(0, negN).map((p) => p.question),
    progress,
    'classifier negatives (base, no prompt, training questions)',
  );
  const positives = input.trainPairs.slice(0, negN).map((p) => p.answer);
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
    { signal: input.signal },
  );
  const predicted = await engine.call(
    'classifier_predict',
    { path: input.classifierPath, texts: [...answers.student, ...answers.teacher, ...answers.base] },
    { signal: input.signal },
  );
  progress.tick(1, 'in-character classifier');
  return {
    probs: {
      student: predicted.probs.slice(0, n),
      teacher: predicted.probs.slice(n, 2 * n),
      base: predicted.probs.slice(2 * n, 3 * n),
    },
    classifier: {
      trainAccuracy: fit.train_accuracy,
      cvAccuracy: fit.cv_accuracy,
      n: fit.n,
      positives: positives.length,
      negatives: negatives.length,
    },
  };
}
