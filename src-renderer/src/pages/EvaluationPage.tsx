import { useEffect, useMemo, useState, type JSX } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { EvaluationSummary, ModelRole, SavingsSummary } from '../../../src-shared/contract';
import { EVALUATION_NLL } from '../../../src-shared/losses';
import { BarChart } from '../components/BarChart';
import { EmptyState } from '../components/EmptyState';
import { ErrorNotice } from '../components/ErrorNotice';
import { RobustnessPanel } from '../components/RobustnessPanel';
import { DistillationPanel } from '../components/DistillationPanel';
import { RevealedPreferencesPanel, StagesPanel } from '../components/CharacterEvalPanels';
import { formatNumber, formatPercent, formatPercentInterval, formatUsd } from '../components/format';
import {
  binLabels,
  histogram,
  MODEL_ROLES,
  selectEvaluationItems,
  selectEvaluationSummary,
  selectInCharacterShares,
  selectSavings,
  selectSimilarities,
  useEvaluationStore,
} from '../stores/evaluation';
import { selectCurrentRunId, useRunsStore } from '../stores/runs';

const ROLE_COLORS: Record<ModelRole, string> = { base: '#8a94a3', teacher: '#d8783b', student: '#3b6fd8' };
const HISTOGRAM_BINS = 10;
const BIN_LABELS = binLabels(HISTOGRAM_BINS);
const selectStudentDifflib = selectSimilarities('student', 'difflib');
const selectBaseDifflib = selectSimilarities('base', 'difflib');
const selectStudentCosine = selectSimilarities('student', 'cosine');
const selectBaseCosine = selectSimilarities('base', 'cosine');

function SimilarityHistogram({ metric }: { metric: 'difflib' | 'cosine' }): JSX.Element {
  const student = useEvaluationStore(
    useShallow(metric === 'difflib' ? selectStudentDifflib : selectStudentCosine),
  );
  const base = useEvaluationStore(useShallow(metric === 'difflib' ? selectBaseDifflib : selectBaseCosine));
  const series = useMemo(
    () => [
      { label: 'student', values: histogram(student, HISTOGRAM_BINS), color: ROLE_COLORS.student },
      { label: 'base', values: histogram(base, HISTOGRAM_BINS), color: ROLE_COLORS.base },
    ],
    [student, base],
  );
  return (
    <BarChart
      labels={BIN_LABELS}
      series={series}
      yTitle="answers"
      caption={
        metric === 'difflib'
          ? 'Text similarity to the teacher (difflib ratio), per answer'
          : 'Meaning similarity to the teacher (embedding cosine), per answer'
      }
      testId={`similarity-${metric}`}
    />
  );
}

type Intervals = Partial<Record<ModelRole, { low: number; high: number }>>;

function ScoreRows({ summary }: { summary: EvaluationSummary }): JSX.Element {
  const ci = summary.intervals;
  const rows: {
    label: string;
    values: Record<ModelRole, number> | null;
    percent: boolean;
    intervals?: Intervals;
  }[] = [
    {
      label: 'In character',
      values: summary.inCharacterShare,
      percent: true,
      intervals: ci?.inCharacterShare,
    },
    {
      label: 'Persona keywords',
      values: summary.keywordPresence,
      percent: true,
      intervals: ci?.keywordPresence,
    },
    { label: 'Capability', values: summary.capability, percent: true, intervals: ci?.capability },
    { label: 'Safety', values: summary.safety, percent: true, intervals: ci?.safety },
    { label: 'Elo', values: summary.elo, percent: false },
  ];
  return (
    <table data-testid="evaluation-scores">
      <thead>
        <tr>
          <th scope="col">Score</th>
          {MODEL_ROLES.map((r) => (
            <th key={r} scope="col">
              {r}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows
          .filter((row) => row.values !== null)
          .map((row) => (
            <tr key={row.label}>
              <th scope="row">{row.label}</th>
              {MODEL_ROLES.map((r) => (
                <td key={r}>
                  {row.percent ? formatPercent(row.values?.[r], 1) : formatNumber(row.values?.[r], 0)}
                  {row.percent && Number.isFinite(row.values?.[r]) && (
                    <span className="small muted">{formatPercentInterval(row.intervals?.[r])}</span>
                  )}
                </td>
              ))}
            </tr>
          ))}
        <tr>
          <th scope="row">Similarity to teacher (difflib / cosine)</th>
          <td>
            {summary.difflib.base.toFixed(3)} / {summary.cosine.base.toFixed(3)}
          </td>
          <td>—</td>
          <td>
            {summary.difflib.student.toFixed(3)} / {summary.cosine.student.toFixed(3)}
          </td>
        </tr>
      </tbody>
      {ci && (
        <caption className="small muted">
          Brackets: 95% intervals over the {summary.n} answers; where two overlap, neither model is better.
          The student’s in-character share is {formatPercent(ci.inCharacterVsTeacher.value, 1)}
          {formatPercentInterval(ci.inCharacterVsTeacher.interval)} of the teacher’s.
        </caption>
      )}
    </table>
  );
}

function SavingsPanel({ savings }: { savings: SavingsSummary }): JSX.Element {
  return (
    <div className="panel" data-testid="evaluation-savings">
      <h3>Savings of the student (no prompt) over the teacher (with prompt)</h3>
      <table>
        <thead>
          <tr>
            <th scope="col">Measure</th>
            <th scope="col">Teacher</th>
            <th scope="col">Student</th>
            <th scope="col">Saving</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">Prompt tokens per query</th>
            <td>{formatNumber(savings.promptTokensTeacher)}</td>
            <td>{formatNumber(savings.promptTokensStudent)}</td>
            <td>{formatPercent(savings.tokenReduction, 1)} fewer</td>
          </tr>
          <tr>
            <th scope="row">Time to first token</th>
            <td>{formatNumber(savings.ttftMsTeacher)} ms</td>
            <td>{formatNumber(savings.ttftMsStudent)} ms</td>
            <td>—</td>
          </tr>
          <tr>
            <th scope="row">Latency per answer</th>
            <td>{formatNumber(savings.latencyMsTeacher)} ms</td>
            <td>{formatNumber(savings.latencyMsStudent)} ms</td>
            <td>{formatNumber(savings.latencyRatio, 2)}× faster</td>
          </tr>
          <tr>
            <th scope="row">Cost per million queries</th>
            <td>{formatUsd(savings.costPerMillionTeacher)}</td>
            <td>{formatUsd(savings.costPerMillionStudent)}</td>
            <td>
              {savings.paybackQueries === null
                ? 'no payback'
                : `training pays back after ${formatNumber(savings.paybackQueries)} queries`}
            </td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}

function ReportPanel({ runId }: { runId: string }): JSX.Element {
  const report = useEvaluationStore((s) => s.report);
  const loadReport = useEvaluationStore((s) => s.loadReport);
  useEffect(() => {
    void loadReport(runId);
  }, [runId, loadReport]);
  return (
    <details className="panel" data-testid="evaluation-report">
      <summary>Results report</summary>
      {report ? (
        <>
          <p className="small muted">{report.path}</p>
          {/* It scrolls: focusable so the keyboard can scroll it (axe: scrollable-region-focusable). */}
          <pre className="report" tabIndex={0} aria-label="Results report text">
            {report.markdown}
          </pre>
        </>
      ) : (
        <p className="muted">The report is written by the last pipeline step (Wizard → Evaluate).</p>
      )}
    </details>
  );
}

function Examples(): JSX.Element {
  const items = useEvaluationStore(selectEvaluationItems);
  const [index, setIndex] = useState(0);
  const item = items[Math.min(index, items.length - 1)];
  if (!item) return <p className="muted">No example answers.</p>;
  return (
    <div className="panel" data-testid="evaluation-examples">
      <h3>Example answers</h3>
      <div className="row">
        <label htmlFor="eval-example">Question</label>
        <select id="eval-example" value={index} onChange={(e) => setIndex(Number(e.target.value))}>
          {items.map((it, i) => (
            <option key={it.questionId} value={i}>
              [{it.category}] {it.question.slice(0, 90)}
            </option>
          ))}
        </select>
      </div>
      <p>
        <b>{item.question}</b>
      </p>
      <div className="columns" style={{ gridTemplateColumns: '1fr 1fr 1fr' }}>
        {(['teacher', 'student', 'base'] as const).map((role) => (
          <div key={role} data-testid={`example-${role}`}>
            <h4>
              {role}{' '}
              <span className="badge">
                {item.inCharacter[role] >= 0.5 ? 'in character' : 'out of character'}
              </span>
            </h4>
            <p className="answer" style={{ whiteSpace: 'pre-wrap' }}>
              {item.answers[role]}
            </p>
            {role !== 'teacher' && (
              <p className="small muted">
                difflib {item.similarityToTeacher[role].difflib.toFixed(3)} · cosine{' '}
                {item.similarityToTeacher[role].cosine.toFixed(3)}
              </p>
            )}
          </div>
        ))}
      </div>
    </div>
  );
}

export function EvaluationPage(): JSX.Element {
  const runId = useRunsStore(selectCurrentRunId);
  const summary = useEvaluationStore(selectEvaluationSummary);
  const savings = useEvaluationStore(selectSavings);
  const shares = useEvaluationStore(useShallow(selectInCharacterShares));
  const { loaded, loading, error, load } = useEvaluationStore(
    useShallow((s) => ({ loaded: s.loaded, loading: s.loading, error: s.error, load: s.load })),
  );
  useEffect(() => {
    if (runId) void load(runId);
  }, [runId, load]);
  const shareSeries = useMemo(
    () => [
      {
        label: 'in-character share',
        values: shares.map((v) => v * 100),
        color: MODEL_ROLES.map((role) => ROLE_COLORS[role]),
      },
    ],
    [shares],
  );
  const roleLabels = useMemo(() => [...MODEL_ROLES], []);

  if (!runId || (loaded && !summary)) {
    return (
      <section>
        <h2>Evaluation</h2>
        <EmptyState title="Not evaluated yet">
          <p>
            Train the student, then run the Evaluate step in the Wizard: base, teacher and student answer
            held-out questions and the results appear here.
          </p>
        </EmptyState>
      </section>
    );
  }
  return (
    <section aria-labelledby="evaluation-title">
      <h2 id="evaluation-title">Evaluation</h2>
      <ErrorNotice error={error} />
      {loading && !summary && <p className="muted">Loading…</p>}
      {summary && (
        <>
          <div className="panel" data-testid="evaluation-gate">
            <h3>
              Gate:{' '}
              <span className={summary.gate.passed ? 'ok' : 'bad'}>
                {summary.gate.passed ? 'passed' : 'not passed'}
              </span>{' '}
              <span className="muted">({summary.gate.score})</span>
            </h3>
            <p>
              Student {formatNumber(summary.gate.student, 3)} vs base {formatNumber(summary.gate.base, 3)} on{' '}
              {summary.n} questions
              {summary.valLoss !== null && (
                <span title={EVALUATION_NLL.long} data-testid="evaluation-val-nll">
                  {' '}
                  · {EVALUATION_NLL.short} of the validation answers {summary.valLoss.toFixed(4)} (end token
                  counted after each; not the Training page’s kd loss or validation NLL)
                </span>
              )}
              {summary.perplexity !== null && ` · perplexity ${summary.perplexity.toFixed(2)}`}
            </p>
            {summary.gate.reasons.length > 0 && (
              <ul>
                {summary.gate.reasons.map((r) => (
                  <li key={r}>{r}</li>
                ))}
              </ul>
            )}
          </div>
          <DistillationPanel metrics={summary.distillation} />
          <RobustnessPanel summary={summary.robustness} />
          <StagesPanel stages={summary.stages} />
          <RevealedPreferencesPanel summary={summary.revealedPreferences} />
          <div className="panel">
            <BarChart
              labels={roleLabels}
              series={shareSeries}
              yTitle="% in character"
              yMax={100}
              caption="Share of answers judged in character"
              testId="in-character-chart"
              format={(v) => `${v.toFixed(1)}%`}
            />
            <ScoreRows summary={summary} />
          </div>
          <div className="panel columns">
            <SimilarityHistogram metric="difflib" />
            <SimilarityHistogram metric="cosine" />
          </div>
          {savings ? (
            <SavingsPanel savings={savings} />
          ) : (
            <p className="muted">
              Savings have not been measured yet (the Savings step runs after Evaluate).
            </p>
          )}
          <Examples />
          <ReportPanel runId={runId} />
        </>
      )}
    </section>
  );
}
