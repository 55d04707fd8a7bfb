import { useEffect, type JSX } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { AuditSummary } from '../../../src-shared/contract';
import { EmptyState } from '../components/EmptyState';
import { ErrorNotice } from '../components/ErrorNotice';
import { ImportPanel } from '../components/ImportPanel';
import { formatNumber, formatPercent } from '../components/format';
import { PAGE_SIZE, selectAudit, selectExampleRows, selectPage, useDataStore } from '../stores/data';
import { useEvaluationStore } from '../stores/evaluation';
import { selectCurrentRunId, useRunsStore } from '../stores/runs';

function AuditPanel({ audit }: { audit: AuditSummary }): JSX.Element {
  return (
    <div className="panel" data-testid="audit-summary">
      <h3>Audit</h3>
      <div className="stats">
        <div className="stat">
          <strong>{formatNumber(audit.kept)}</strong>kept of {formatNumber(audit.total)}
        </div>
        <div className="stat">
          <strong>{formatPercent(audit.keywordPresence)}</strong>with persona keywords
        </div>
        <div className="stat">
          <strong>{audit.exactDuplicates}</strong>exact duplicates
        </div>
        <div className="stat">
          <strong>{audit.nearDuplicates}</strong>near duplicates
        </div>
        <div className="stat">
          <strong>{formatNumber(audit.length.median)}</strong>median length (words)
        </div>
      </div>
      <div className="columns">
        <table>
          <caption className="small">Flags</caption>
          <tbody>
            {Object.entries(audit.flagged).map(([flag, count]) => (
              <tr key={flag}>
                <th scope="row">{flag}</th>
                <td>{count}</td>
              </tr>
            ))}
            {Object.keys(audit.flagged).length === 0 && (
              <tr>
                <td>No answer was flagged.</td>
              </tr>
            )}
          </tbody>
        </table>
        <table>
          <caption className="small">Categories</caption>
          <tbody>
            {Object.entries(audit.categories).map(([category, count]) => (
              <tr key={category}>
                <th scope="row">{category}</th>
                <td>{count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

export function DataPage(): JSX.Element {
  const runId = useRunsStore(selectCurrentRunId);
  const rows = useDataStore(selectExampleRows);
  const audit = useDataStore(selectAudit);
  const { page, pages } = useDataStore(useShallow(selectPage));
  const { total, categories, flags, category, flag, offset, loading, error } = useDataStore(
    useShallow((s) => ({
      total: s.total,
      categories: s.categories,
      flags: s.flags,
      category: s.category,
      flag: s.flag,
      offset: s.offset,
      loading: s.loading,
      error: s.error,
    })),
  );
  const setFilter = useDataStore((s) => s.setFilter);
  const setOffset = useDataStore((s) => s.setOffset);
  const loadExamples = useDataStore((s) => s.loadExamples);
  const loadAudit = useDataStore((s) => s.loadAudit);
  const evaluationItems = useEvaluationStore((s) => s.items);
  const loadEvaluation = useEvaluationStore((s) => s.load);

  useEffect(() => {
    if (!runId) return;
    void loadAudit(runId);
    void loadEvaluation(runId);
  }, [runId, loadAudit, loadEvaluation]);
  useEffect(() => {
    if (runId) void loadExamples(runId);
  }, [runId, category, flag, offset, loadExamples]);

  if (!runId) {
    return (
      <section>
        <h2>Data</h2>
        <ImportPanel />
        <EmptyState title="No run selected">
          <p>
            Create a run in the Wizard and run its Questions and Teacher data steps; the answers show up here.
          </p>
        </EmptyState>
      </section>
    );
  }
  const studentByQuestion = new Map(evaluationItems.map((item) => [item.questionId, item]));
  const sideBySide = evaluationItems.length > 0;
  return (
    <section aria-labelledby="data-title">
      <h2 id="data-title">Data</h2>
      <ImportPanel />
      {audit ? (
        <AuditPanel audit={audit} />
      ) : (
        <p className="muted">The audit has not run yet for this run.</p>
      )}
      <div className="panel">
        <div className="row">
          <label htmlFor="data-category">Category</label>
          <select
            id="data-category"
            value={category}
            onChange={(e) => setFilter({ category: e.target.value })}
          >
            <option value="">All categories</option>
            {categories.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
          <label htmlFor="data-flag">Audit flag</label>
          <select id="data-flag" value={flag} onChange={(e) => setFilter({ flag: e.target.value })}>
            <option value="">Any</option>
            {flags.map((f) => (
              <option key={f} value={f}>
                {f}
              </option>
            ))}
          </select>
          <span className="muted" data-testid="data-total">
            {formatNumber(total)} examples
          </span>
        </div>
        <ErrorNotice error={error} />
        {rows.length === 0 && !loading ? (
          <EmptyState title="No teacher answers here yet">
            <p>Run the Teacher data step in the Wizard, or clear the filters.</p>
          </EmptyState>
        ) : (
          <table data-testid="data-table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Category</th>
                <th scope="col">Question</th>
                <th scope="col">Teacher answer</th>
                {sideBySide && <th scope="col">Student answer</th>}
                <th scope="col">Tokens</th>
                <th scope="col">Flags / split</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.id} data-testid="data-row">
                  <td>{row.id}</td>
                  <td>{row.category}</td>
                  <td>{row.question}</td>
                  <td className="answer">{row.answer}</td>
                  {sideBySide && (
                    <td className="answer">
                      {studentByQuestion.get(row.questionId)?.answers.student ?? (
                        <span className="muted">not in the evaluation set</span>
                      )}
                    </td>
                  )}
                  <td>
                    {row.promptTokens} + {row.completionTokens}
                  </td>
                  <td>
                    {row.flags.length ? <span className="bad">{row.flags.join(', ')}</span> : 'ok'}
                    {row.split && <div className="small muted">{row.split}</div>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <div className="row">
          <button type="button" disabled={offset === 0} onClick={() => setOffset(offset - PAGE_SIZE)}>
            Previous
          </button>
          <span data-testid="data-page">
            Page {page} of {pages}
          </span>
          <button type="button" disabled={page >= pages} onClick={() => setOffset(offset + PAGE_SIZE)}>
            Next
          </button>
        </div>
      </div>
    </section>
  );
}
