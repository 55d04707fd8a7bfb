/**
 * The distillation recipe's step table: what the runner calls for each PipelineStep.
 */
import type { StepTable } from '../runner';
import { characterTrainStep } from '../recipes/character';
import { goodPairsGenerateStep, goodPairsQuestionsStep } from '../recipes/good-pairs';
import { runConfig, type StudioServices } from '../service';
import { auditStep, reportStep, splitStep } from './data';
import { evaluateStep, savingsStep } from './evaluate';
import { generateStep, questionsStep } from './generate';
import { trainStep } from './train';

export function distillationSteps(studio: StudioServices): StepTable {
  return {
    questions: (ctx) =>
      runConfig(ctx.run).recipe === 'good-pairs'
        ? goodPairsQuestionsStep(studio, ctx)
        : questionsStep(studio, ctx),
    generate: (ctx) =>
      runConfig(ctx.run).recipe === 'good-pairs'
        ? goodPairsGenerateStep(studio, ctx)
        : generateStep(studio, ctx),
    audit: (ctx) => auditStep(studio, ctx),
    split: (ctx) => splitStep(studio, ctx),
    train: (ctx) =>
      runConfig(ctx.run).recipe === 'character' ? characterTrainStep(studio, ctx) : trainStep(studio, ctx),
    evaluate: (ctx) => evaluateStep(studio, ctx),
    savings: (ctx) => savingsStep(studio, ctx),
    report: (ctx) => reportStep(studio, ctx),
  };
}
