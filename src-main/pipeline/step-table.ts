/**
 * The step table: what the runner calls for each PipelineStep, chosen by the run's recipe
 * (distill, character or good-pairs) and by whether its data is imported. The training backend
 * (local or tinker) chooses only the trainer the train step gets (pipeline/tinker.ts).
 */
import { characterTrainStep } from './recipes/character';
import { goodPairsGenerateStep, goodPairsQuestionsStep } from './recipes/good-pairs';
import { importedGenerateStep, importedQuestionsStep } from './recipes/imported';
import type { StepTable } from './runner';
import type { PipelineServices } from './services';
import { auditStep, reportStep, splitStep } from './steps/data';
import { evaluateStep, savingsStep } from './steps/evaluate';
import { generateStep, questionsStep } from './steps/generate';
import { trainStep } from './steps/train';
import { trainerFor } from './tinker';

export function stepTable(services: PipelineServices): StepTable {
  return {
    questions: (ctx) =>
      ctx.run.config.recipe === 'good-pairs'
        ? goodPairsQuestionsStep(services, ctx)
        : ctx.run.config.importedData
          ? importedQuestionsStep(services, ctx)
          : questionsStep(services, ctx),
    generate: (ctx) =>
      ctx.run.config.recipe === 'good-pairs'
        ? goodPairsGenerateStep(services, ctx)
        : ctx.run.config.importedData?.use === 'teacher'
          ? importedGenerateStep(services, ctx)
          : generateStep(services, ctx),
    audit: (ctx) => auditStep(services, ctx),
    split: (ctx) => splitStep(services, ctx),
    train: (ctx) =>
      ctx.run.config.recipe === 'character'
        ? characterTrainStep(services, ctx, trainerFor(services, ctx))
        : trainStep(services, ctx, trainerFor(services, ctx)),
    evaluate: (ctx) => evaluateStep(services, ctx),
    savings: (ctx) => savingsStep(services, ctx),
    report: (ctx) => reportStep(services, ctx),
  };
}
