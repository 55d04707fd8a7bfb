import { useEffect, useState, type JSX } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { PIPELINE_STEPS, type PipelineStep, type RunSummary, type Scale } from '../../../src-shared/contract';
import { EmptyState } from '../components/EmptyState';
import { ErrorNotice } from '../components/ErrorNotice';
import { formatNumber, formatPercent, formatSeconds, formatUsd } from '../components/format';
import { ProgressBar } from '../components/ProgressBar';
import { hrefFor, type RouteName } from '../router';
import { selectAudit, useDataStore } from '../stores/data';
import { selectEvaluationSummary, useEvaluationStore } from '../stores/evaluation';
import { selectPersonas, usePersonasStore } from '../stores/personas';
import { useReviewStore, useSheetsWithProgress } from '../stores/review';
import { selectLatestLoss, useTrainingStore } from '../stores/training';
import {
  selectCurrentRun,
  selectRuns,
  selectRunsError,
  stepKey,
  stepState,
  useRunsStore,
  type StepEstimate,
  type StepState,
} from '../stores/runs';

interface WizardStep {
  name: string;
  title: string;
  /** What pressing Run does, in one or two sentences. */
  description: string;
  /** Pipeline steps the Run button performs, in order (none: the step happens on another page). */
  pipeline: PipelineStep[];
  page?: RouteName;
}

const STEPS: WizardStep[] = [
  {
    name: 'questions',
    title: 'Questions',
    description:
      'Builds the question set from the shipped templates across categories (biography, music, philosophy, relationships, modern topics…), sized by the run scale.',
    pipeline: ['questions'],
    page: 'data',
  },
  {
    name: 'teacher-data',
    title: 'Teacher data',
    description:
      'The teacher model answers every question WITH the persona as its system prompt. These answers become the student’s training targets.',
    pipeline: ['generate'],
    page: 'data',
  },
  {
    name: 'audit',
    title: 'Audit and split',
    description:
      'Checks the teacher answers (length, keywords, refusals, exact and near duplicates), drops flagged ones and splits the rest 90/10 into train and validation.',
    pipeline: ['audit', 'split'],
    page: 'data',
  },
  {
    name: 'train',
    title: 'Train the student',
    description:
      'LoRA fine-tunes the student on question → answer WITHOUT the persona prompt (loss on the answer tokens only), with the scale’s default settings. Use the Training page to change them and watch the loss.',
    pipeline: ['train'],
    page: 'training',
  },
  {
    name: 'evaluate',
    title: 'Evaluate',
    description:
      'Asks base, teacher (with prompt) and student (without) held-out questions; scores in-character share, similarity to the teacher, capability and safety; measures token, latency and cost savings; writes the report.',
    pipeline: ['evaluate', 'savings', 'report'],
    page: 'evaluation',
  },
  {
    name: 'review',
    title: 'Review',
    description: 'Rate 50 answers on four dimensions by keyboard, blind if you like, against a 90% target.',
    pipeline: [],
    page: 'review',
  },
  {
    name: 'chat',
    title: 'Chat',
    description:
      'Talk to the distilled student with no system prompt, optionally beside the teacher with the prompt.',
    pipeline: [],
    page: 'chat',
  },
];

/** Whether the runner will accept the step: every pipeline step before its first one is done. */
function isReady(run: RunSummary | null, step: WizardStep): boolean {
  const first = step.pipeline[0];
  if (!run || !first) return false;
  const before = PIPELINE_STEPS.slice(0, PIPELINE_STEPS.indexOf(first));
  return before.every((p) => stepState(run, p) === 'done');
}

/** Combined state of a wizard step's pipeline steps. */
function combinedState(
  run: RunSummary | null,
  steps: PipelineStep[],
  running: Record<string, boolean>,
): StepState {
  const states = steps.map((s) => stepState(run, s, run ? (running[stepKey(run.id, s)] ?? false) : false));
  if (states.some((s) => s === 'running')) return 'running';
  if (states.some((s) => s === 'failed')) return 'failed';
  if (states.some((s) => s === 'cancelled')) return 'cancelled';
  if (states.length > 0 && states.every((s) => s === 'done')) return 'done';
  return 'todo';
}

function sumEstimates(estimates: (StepEstimate | undefined)[]): StepEstimate | null {
  const known = estimates.filter((e): e is StepEstimate => e !== undefined);
  if (known.length === 0) return null;
  return {
    seconds: known.reduce((a, e) => a + e.seconds, 0),
    tokens: known.reduce((a, e) => a + e.tokens, 0),
    costUsd: known.reduce((a, e) => a + e.costUsd, 0),
    explanation: known.map((e) => e.explanation).join(' '),
  };
}

function PersonaStep(): JSX.Element {
  const personas = usePersonasStore(selectPersonas);
  const loadPersonas = usePersonasStore((s) => s.load);
  const runs = useRunsStore(selectRuns);
  const current = useRunsStore(selectCurrentRun);
  const createRun = useRunsStore((s) => s.createRun);
  const resumeRun = useRunsStore((s) => s.resumeRun);
  const [personaId, setPersonaId] = useState('');
  const [scale, setScale] = useState<Scale>('smoke');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    void loadPersonas();
  }, [loadPersonas]);
  const chosen = personaId || personas.find((p) => p.id === 'beethoven')?.id || personas[0]?.id || '';
  // runs:resume runs every step not completed yet, in the background (progress arrives as events).
  const resumeLabel = !current
    ? null
    : current.status === 'failed' || current.status === 'cancelled' || current.status === 'interrupted'
      ? 'Resume this run'
      : current.status === 'pending'
        ? current.step === null
          ? 'Run all steps'
          : 'Run the remaining steps'
        : null;
  return (
    <li className="panel step" data-testid="wizard-step-persona" data-state={current ? 'done' : 'todo'}>
      <h3>
        1. Persona and run{' '}
        <span className={`badge ${current ? 'done' : ''}`}>{current ? 'done' : 'to do'}</span>
      </h3>
      <p>
        Pick the constitution to distil and a scale: <b>smoke</b> (minutes, a quick check), <b>mini</b> (a
        real but small run), <b>paper</b> (the full 5,000-example experiment). Creating a run makes a folder
        for its data, checkpoints and reports.
      </p>
      <div className="row">
        <label htmlFor="wizard-persona">Persona</label>
        <select id="wizard-persona" value={chosen} onChange={(e) => setPersonaId(e.target.value)}>
          {personas.length === 0 && <option value="">No personas — add one on the Personas page</option>}
          {personas.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name} (v{p.version})
            </option>
          ))}
        </select>
        <label htmlFor="wizard-scale">Scale</label>
        <select id="wizard-scale" value={scale} onChange={(e) => setScale(e.target.value as Scale)}>
          <option value="smoke">smoke</option>
          <option value="mini">mini</option>
          <option value="paper">paper</option>
        </select>
        <button
          type="button"
          className="primary"
          data-testid="wizard-create-run"
          disabled={!chosen || busy}
          onClick={async () => {
            setBusy(true);
            await createRun(chosen, scale);
            setBusy(false);
          }}
        >
          Create run
        </button>
      </div>
      {current ? (
        <p data-testid="wizard-current-run">
          Current run <code>{current.id}</code>: {current.personaId} v{current.personaVersion},{' '}
          {current.scale}, <b>{current.status}</b>
          {current.step ? ` at ${current.step}` : ''}.{' '}
          {current.status === 'interrupted' && 'The process running it stopped before the step finished. '}
          {runs.length > 1 && 'Switch runs with the Run menu above.'}
          {resumeLabel && (
            <>
              {' '}
              <button type="button" data-testid="wizard-resume" onClick={() => void resumeRun(current.id)}>
                {resumeLabel}
              </button>
            </>
          )}
        </p>
      ) : (
        <p className="muted">No run yet: create one to unlock the steps below.</p>
      )}
      {current?.error && <p className="error">Last error: {current.error}</p>}
    </li>
  );
}

function StepResult({ step, run }: { step: WizardStep; run: RunSummary }): JSX.Element | null {
  const audit = useDataStore(selectAudit);
  const loadAudit = useDataStore((s) => s.loadAudit);
  const examplesTotal = useDataStore((s) => (s.runId === run.id ? s.total : null));
  const loadExamples = useDataStore((s) => s.loadExamples);
  const summary = useEvaluationStore(selectEvaluationSummary);
  const loadEvaluation = useEvaluationStore((s) => s.load);
  const latest = useTrainingStore(useShallow(selectLatestLoss));
  const catchUp = useTrainingStore((s) => s.catchUp);
  useEffect(() => {
    if (step.name === 'teacher-data') void loadExamples(run.id);
    if (step.name === 'audit') void loadAudit(run.id);
    if (step.name === 'train') void catchUp(run.id);
    if (step.name === 'evaluate') void loadEvaluation(run.id);
  }, [step.name, run.id, loadAudit, loadEvaluation, loadExamples, catchUp]);
  if (step.name === 'teacher-data' && examplesTotal !== null) {
    return (
      <p data-testid="wizard-result-teacher-data">{formatNumber(examplesTotal)} teacher answers collected.</p>
    );
  }
  if (step.name === 'train' && latest.train !== null) {
    return (
      <p data-testid="wizard-result-train">
        Final train loss {latest.train.toFixed(4)}
        {latest.eval !== null && `, validation loss ${latest.eval.toFixed(4)}`}.
      </p>
    );
  }
  if (step.name === 'audit' && audit) {
    return (
      <p data-testid="wizard-result-audit">
        Kept {formatNumber(audit.kept)} of {formatNumber(audit.total)} answers; keyword presence{' '}
        {formatPercent(audit.keywordPresence)}; {audit.exactDuplicates} exact and {audit.nearDuplicates} near
        duplicates.
      </p>
    );
  }
  if (step.name === 'evaluate' && summary) {
    return (
      <p data-testid="wizard-result-evaluate">
        Gate <b className={summary.gate.passed ? 'ok' : 'bad'}>{summary.gate.passed ? 'passed' : 'failed'}</b>{' '}
        ({summary.gate.score}); in character: student {formatPercent(summary.inCharacterShare.student)},
        teacher {formatPercent(summary.inCharacterShare.teacher)}, base{' '}
        {formatPercent(summary.inCharacterShare.base)}.
      </p>
    );
  }
  return null;
}

/**
 * The Review card's state, from the run's review sheets: done once a sheet is fully rated, in
 * progress while one is partly rated (null for the other cards, whose state is the run's).
 */
function useReviewState(runId: string | null): StepState | null {
  const loadSheets = useReviewStore((s) => s.loadSheets);
  const sheets = useSheetsWithProgress();
  useEffect(() => {
    if (runId) void loadSheets(runId);
  }, [runId, loadSheets]);
  if (runId === null) return null;
  const mine = sheets.filter((s) => s.runId === runId);
  if (mine.some((s) => s.total > 0 && s.rated === s.total)) return 'done';
  if (mine.some((s) => s.rated > 0)) return 'running';
  return 'todo';
}

function PipelineStepCard({
  index,
  step,
  run,
  ready,
}: {
  index: number;
  step: WizardStep;
  run: RunSummary | null;
  /** The steps before this one are done, so the runner will accept it. */
  ready: boolean;
}): JSX.Element {
  const running = useRunsStore((s) => s.running);
  const estimates = useRunsStore((s) => s.estimates);
  const progress = useRunsStore((s) => s.progress);
  const stepErrors = useRunsStore((s) => s.stepErrors);
  const runStep = useRunsStore((s) => s.runStep);
  const cancelRun = useRunsStore((s) => s.cancelRun);
  const reviewState = useReviewState(step.name === 'review' ? (run?.id ?? null) : null);
  const state = reviewState ?? combinedState(run, step.pipeline, running);
  const keys = run ? step.pipeline.map((p) => stepKey(run.id, p)) : [];
  const estimate = sumEstimates(keys.map((k) => estimates[k]));
  const activeKey = keys.find((k) => running[k]) ?? (run?.step ? stepKey(run.id, run.step) : undefined);
  const activeProgress =
    state === 'running' && activeKey && keys.includes(activeKey) ? (progress[activeKey] ?? null) : null;
  const error = keys.map((k) => stepErrors[k]).find((e) => e !== undefined) ?? null;
  const onRun = async (): Promise<void> => {
    if (!run) return;
    for (const p of step.pipeline) {
      const result = await runStep(run.id, p);
      if (!result || ['failed', 'cancelled', 'interrupted'].includes(result.status)) break;
    }
  };
  return (
    <li className="panel step" data-testid={`wizard-step-${step.name}`} data-state={state}>
      <h3>
        {index}. {step.title}{' '}
        <span className={`badge ${state}`} data-testid={`wizard-state-${step.name}`}>
          {state === 'todo'
            ? 'to do'
            : state === 'running' && step.pipeline.length === 0
              ? 'in progress'
              : state}
        </span>
      </h3>
      <p>{step.description}</p>
      {step.pipeline.length > 0 && run && (
        <p className="small muted" data-testid={`wizard-estimate-${step.name}`}>
          {!estimate
            ? 'Estimating…'
            : state === 'done'
              ? `Done. Running it again: about ${formatSeconds(estimate.seconds)}. ${estimate.explanation}`
              : `Estimate: about ${formatSeconds(estimate.seconds)}, ${formatNumber(estimate.tokens)} tokens, ${formatUsd(estimate.costUsd)}. ${estimate.explanation}`}
        </p>
      )}
      <div className="row">
        {step.pipeline.length > 0 && (
          <button
            type="button"
            className="primary"
            data-testid={`wizard-run-${step.name}`}
            disabled={!run || !ready || state === 'running'}
            onClick={() => void onRun()}
          >
            {state === 'done' ? 'Run again' : state === 'failed' || state === 'cancelled' ? 'Retry' : 'Run'}
          </button>
        )}
        {state === 'running' && run && (
          <button type="button" className="danger" onClick={() => void cancelRun(run.id)}>
            Cancel
          </button>
        )}
        {step.page && (
          <a href={hrefFor(step.page)} data-testid={`wizard-open-${step.name}`}>
            Open the {step.page} page
          </a>
        )}
      </div>
      {run && !ready && state === 'todo' && step.pipeline.length > 0 && (
        <p className="small muted">Run the step above first.</p>
      )}
      {activeProgress && (
        <ProgressBar
          fraction={activeProgress.fraction}
          label={`${activeProgress.done} / ${activeProgress.total}${activeProgress.message ? ` — ${activeProgress.message}` : ''}`}
          testId={`wizard-progress-${step.name}`}
        />
      )}
      {state === 'running' && !activeProgress && <p className="muted">Working…</p>}
      <ErrorNotice error={error} testId={`wizard-error-${step.name}`} />
      {state === 'done' && run && <StepResult step={step} run={run} />}
    </li>
  );
}

export function WizardPage(): JSX.Element {
  const run = useRunsStore(selectCurrentRun);
  const error = useRunsStore(selectRunsError);
  const estimate = useRunsStore((s) => s.estimate);
  const runId = run?.id ?? null;
  useEffect(() => {
    if (!runId) return;
    for (const step of STEPS) for (const p of step.pipeline) void estimate(runId, p);
  }, [runId, estimate]);
  return (
    <section aria-labelledby="wizard-title">
      <h2 id="wizard-title">Wizard</h2>
      <p className="muted">
        Distil a character’s system prompt into a small model, one step at a time. Each step says what it does
        and what it will cost before you run it; progress appears as it happens, and a run can be resumed
        later.
      </p>
      <ErrorNotice error={error} />
      <ol className="steps">
        <PersonaStep />
        {STEPS.map((step, i) => (
          <PipelineStepCard key={step.name} index={i + 2} step={step} run={run} ready={isReady(run, step)} />
        ))}
      </ol>
      {!run && (
        <EmptyState title="Start here">
          <p>
            Choose a persona (Beethoven is built in), pick the smoke scale for a first try, and press Create
            run.
          </p>
        </EmptyState>
      )}
    </section>
  );
}
