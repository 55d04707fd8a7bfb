/**
 * Run reports: RESULTS_REPORT.md, DEPLOYMENT.md and evaluation_results.json, from typed inputs
 * gathered from the store (collectReportInput) plus what only the caller knows.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EvaluationItemRow, EvaluationSummary, SavingsSummary } from '../../src-shared/contract';
import { parsePersona, wordCount } from '../personas/parse';
import { reviewSummary } from '../review';
import type { Store } from '../store';
import { renderDeployment, type DeploymentInput } from './deployment';
import { renderResultsReport, type ResultsReportInput } from './results';

export {
  renderResultsReport,
  pickExamples,
  pct,
  num,
  NOT_MEASURED,
  type ReportImportedData,
  type ResultsReportInput,
} from './results';
export { renderDeployment, type DeploymentInput } from './deployment';

/** What the store knows about a run, shaped for renderResultsReport; `extra` fills or overrides the rest. */
export function collectReportInput(
  store: Store,
  runId: string,
  extra: Partial<ResultsReportInput> = {},
): ResultsReportInput {
  const run = store.runs.require(runId);
  const rec = store.personas.get(run.personaId, run.personaVersion);
  const parsed = rec ? parsePersona(rec.source, rec.format, rec.id).persona : null;
  const questions = store.questions.listByRun(runId);
  const byCategory: Record<string, number> = {};
  for (const q of questions) byCategory[q.category] = (byCategory[q.category] ?? 0) + 1;
  const examples = store.examples.countByRun(runId);
  const split = store.splits.counts(runId);
  const job = store.jobs.latestForRun(runId, 'sft') ?? store.jobs.latestForRun(runId);
  let training: ResultsReportInput['training'] = null;
  if (job && job.step > 0) {
    const points = store.metrics.since(job.id, -1);
    const train = points.filter((p) => p.kind === 'train');
    const evals = points.filter((p) => p.kind === 'eval');
    const started = job.startedAt ? Date.parse(job.startedAt) : NaN;
    const finished = job.finishedAt ? Date.parse(job.finishedAt) : NaN;
    const ckpt = store.checkpoints.list({ runId })[0];
    training = {
      config: job.config,
      kind: job.kind,
      steps: job.step,
      firstTrainLoss: train[0]?.loss ?? null,
      finalTrainLoss: train[train.length - 1]?.loss ?? null,
      finalValLoss: evals[evals.length - 1]?.loss ?? null,
      finalValNll: evals[evals.length - 1]?.nll ?? null,
      wallSeconds: Number.isFinite(finished - started) ? (finished - started) / 1000 : null,
      checkpointId: ckpt?.id ?? null,
    };
  }
  const evaluation = store.evaluations.latest(runId);
  const sheet = store.reviews.listSheets(runId)[0];
  const review = sheet ? reviewSummary(store, sheet.id) : null;
  return {
    run,
    persona: rec
      ? {
          id: rec.id,
          name: rec.name,
          version: rec.version,
          wordCount: parsed ? wordCount(parsed.systemPrompt) : 0,
          promptTokens: null,
        }
      : null,
    questions: questions.length
      ? { total: questions.length, heldout: questions.filter((q) => q.heldout).length, byCategory }
      : null,
    generation: examples ? { examples } : null,
    audit: store.audit.summary(runId),
    split: split.train + split.val > 0 ? split : null,
    training,
    evaluation: evaluation ? { summary: evaluation.summary, items: evaluation.items } : null,
    savings: store.savings.latest(runId),
    review: review && review.rated > 0 ? review : null,
    ...extra,
  };
}

export interface EvaluationResultsFile {
  summary: EvaluationSummary;
  items: readonly EvaluationItemRow[];
  savings: SavingsSummary | null;
}

/** evaluation_results.json: the summary, every item with its answers and scores, and savings. */
export function writeEvaluationResults(path: string, data: EvaluationResultsFile): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(
    path,
    `${JSON.stringify({ generated_at: new Date().toISOString(), summary: data.summary, savings: data.savings, items: data.items }, null, 2)}\n`,
  );
}

/** Writes RESULTS_REPORT.md (and DEPLOYMENT.md when deployment input is given) into `dir`. */
export function writeReports(
  dir: string,
  results: ResultsReportInput,
  deployment?: DeploymentInput | null,
): { resultsPath: string; deploymentPath: string | null; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const markdown = renderResultsReport(results);
  const resultsPath = join(dir, 'RESULTS_REPORT.md');
  writeFileSync(resultsPath, markdown);
  let deploymentPath: string | null = null;
  if (deployment) {
    deploymentPath = join(dir, 'DEPLOYMENT.md');
    writeFileSync(deploymentPath, renderDeployment(deployment));
  }
  return { resultsPath, deploymentPath, markdown };
}
