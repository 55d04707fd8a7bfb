/**
 * Run reports: RESULTS_REPORT.md, DEPLOYMENT.md and evaluation_results.json, from typed inputs
 * gathered from the store (collectReportInput) plus what only the caller knows.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EvaluationItemRow, EvaluationSummary, SavingsSummary } from '../../src-shared/contract';
import { parsePersona, wordCount } from '../personas/parse';
import { pairwiseSummary, reviewSummary } from '../review';
import type { Store } from '../store';
import { renderDeployment, type DeploymentInput } from './deployment';
import { renderResultsReport, reviewSection, type ResultsReportInput } from './results';

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
    ...collectReviewInput(store, runId),
    ...extra,
  };
}

/**
 * The report's review inputs: the newest rating sheet when it has a rated item, and the newest
 * pairwise sheet with at least one judged pair.
 */
function collectReviewInput(store: Store, runId: string): Pick<ResultsReportInput, 'review' | 'pairwise'> {
  const sheet = store.reviews.listSheets(runId)[0];
  const review = sheet ? reviewSummary(store, sheet.id) : null;
  const pairSheet = store.pairwise.listSheets(runId).find((s) => store.pairwise.counts(s.id).judged > 0);
  return {
    review: review && review.rated > 0 ? review : null,
    pairwise: pairSheet ? pairwiseSummary(store, pairSheet.id) : null,
  };
}

const REVIEW_HEADING = '## Manual review';

/**
 * Brings an existing RESULTS_REPORT.md's "## Manual review" section up to date with the store
 * (the rating sheet and the pairwise A/B sheet): reviews are made after the report step wrote the
 * report, and the rest of the report (which needed the engine) stays as written. Returns the
 * report's path, or null when there is no report yet or it has no such section.
 */
export function refreshReviewSection(store: Store, runId: string, reportPath: string): string | null {
  if (!existsSync(reportPath)) return null;
  const markdown = readFileSync(reportPath, 'utf8');
  const start = markdown.indexOf(`\n${REVIEW_HEADING}\n`);
  if (start < 0) return null;
  const next = markdown.indexOf('\n## ', start + 1 + REVIEW_HEADING.length);
  const section = reviewSection({ run: store.runs.require(runId), ...collectReviewInput(store, runId) });
  const rest = next < 0 ? '' : markdown.slice(next);
  writeFileSync(reportPath, `${markdown.slice(0, start + 1)}${section}\n${rest}`);
  return reportPath;
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
