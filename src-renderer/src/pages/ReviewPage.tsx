import { useEffect, useRef, useState, type JSX } from 'react';
import { useShallow } from 'zustand/react/shallow';
import {
  REVIEW_DIMENSION_LABELS,
  REVIEW_DIMENSIONS,
  type ReviewItem,
  type ReviewSummary,
} from '../../../src-shared/contract';
import { EmptyState } from '../components/EmptyState';
import { PairwiseReview } from '../components/PairwiseReview';
import { ErrorNotice } from '../components/ErrorNotice';
import { formatNumber, formatPercent } from '../components/format';
import {
  selectRatedCount,
  selectReviewSheet,
  selectReviewSummary,
  selectReviewTotal,
  useReviewStore,
  useSheetsWithProgress,
} from '../stores/review';
import { selectCurrentRunId, useRunsStore } from '../stores/runs';

const RATINGS = [1, 2, 3, 4, 5] as const;

/** Keys typed into these stay theirs: the page's shortcuts only act outside form fields. */
function isFormField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

function noteId(itemId: number): string {
  return `review-note-${itemId}`;
}

/**
 * The page's keyboard: 1–5 rate the focused dimension (and move to the next), Left/Right move
 * between dimensions, Up/Down between items, n opens the note field, Escape leaves it. Off while
 * the A/B view is shown (it has its own keys).
 */
function useReviewKeys(enabled: boolean): void {
  useEffect(() => {
    if (!enabled) return undefined;
    const onKeyDown = (event: KeyboardEvent): void => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const store = useReviewStore.getState();
      if (!store.sheet) return;
      if (isFormField(event.target)) {
        if (
          event.key === 'Escape' &&
          event.target instanceof HTMLTextAreaElement &&
          event.target.id.startsWith('review-note-')
        ) {
          event.preventDefault();
          const item = store.sheet.items[store.itemIndex];
          event.target.blur();
          if (item) void store.saveNote(item.id);
          document.getElementById('review-list')?.focus();
        }
        return;
      }
      if (/^[1-5]$/.test(event.key)) {
        event.preventDefault();
        void store.rateFocused(Number(event.key));
      } else if (event.key === 'ArrowRight') {
        event.preventDefault();
        store.moveDimension(1);
      } else if (event.key === 'ArrowLeft') {
        event.preventDefault();
        store.moveDimension(-1);
      } else if (event.key === 'ArrowDown') {
        event.preventDefault();
        store.moveItem(1);
      } else if (event.key === 'ArrowUp') {
        event.preventDefault();
        store.moveItem(-1);
      } else if (event.key === 'n' || event.key === 'N') {
        const item = store.sheet.items[store.itemIndex];
        if (!item) return;
        event.preventDefault();
        document.getElementById(noteId(item.id))?.focus();
      }
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [enabled]);
}

type ReviewMode = 'sheet' | 'pairwise';

/** Rating sheet or A/B pairs: two views of the page, one keyboard at a time. */
function ModeSwitch({
  mode,
  onChange,
}: {
  mode: ReviewMode;
  onChange: (m: ReviewMode) => void;
}): JSX.Element {
  const modes: [ReviewMode, string][] = [
    ['sheet', 'Rating sheet (50 responses, 1–5)'],
    ['pairwise', 'A/B pairs (student vs teacher)'],
  ];
  return (
    <div className="row" role="group" aria-label="Kind of review">
      {modes.map(([m, label]) => (
        <button
          key={m}
          type="button"
          data-testid={`review-mode-${m}`}
          aria-pressed={mode === m}
          className={mode === m ? 'primary' : undefined}
          onClick={() => onChange(m)}
        >
          {label}
        </button>
      ))}
    </div>
  );
}

function KeyHelp(): JSX.Element {
  return (
    <p className="keys muted" data-testid="review-keys">
      Keys: <kbd>1</kbd>–<kbd>5</kbd> rate the highlighted dimension and move on · <kbd>←</kbd> <kbd>→</kbd>{' '}
      previous / next dimension · <kbd>↑</kbd> <kbd>↓</kbd> previous / next response · <kbd>n</kbd> write a
      note · <kbd>Esc</kbd> leave the note (it is saved)
    </p>
  );
}

function ReviewItemCard({
  item,
  index,
  focused,
  focusedDimension,
}: {
  item: ReviewItem;
  index: number;
  focused: boolean;
  focusedDimension: number;
}): JSX.Element {
  const ref = useRef<HTMLElement>(null);
  const rate = useReviewStore((s) => s.rate);
  const focus = useReviewStore((s) => s.focus);
  const setNoteDraft = useReviewStore((s) => s.setNoteDraft);
  const saveNote = useReviewStore((s) => s.saveNote);
  const total = useReviewStore(selectReviewTotal);
  useEffect(() => {
    // jsdom has no scrollIntoView; browsers do.
    if (focused) ref.current?.scrollIntoView?.({ block: 'nearest' });
  }, [focused]);
  return (
    <article
      ref={ref}
      className="review-item"
      data-testid="review-item"
      data-focused={focused}
      aria-current={focused ? 'true' : undefined}
      aria-label={`Response ${index + 1} of ${total}`}
    >
      <header className="row">
        <strong>
          {index + 1} / {total}
        </strong>
        <span className="badge">{item.category}</span>
        {item.source !== null ? (
          <span className="badge" data-testid="review-source">
            {item.source}
          </span>
        ) : (
          <span className="badge">source hidden</span>
        )}
      </header>
      <p>
        <b>Q:</b> {item.question}
      </p>
      <p style={{ whiteSpace: 'pre-wrap' }}>
        <b>A:</b> {item.answer}
      </p>
      <div role="group" aria-label="Ratings">
        {REVIEW_DIMENSIONS.map((dimension, d) => (
          <div
            key={dimension}
            className="dimension"
            data-testid={`review-dimension-${dimension}`}
            data-focused={focused && d === focusedDimension}
          >
            <span className="name" id={`dim-${item.id}-${dimension}`}>
              {REVIEW_DIMENSION_LABELS[dimension]}
            </span>
            {RATINGS.map((value) => (
              <button
                key={value}
                type="button"
                className="rating-button"
                tabIndex={focused ? 0 : -1}
                aria-pressed={item.ratings[dimension] === value}
                aria-label={`${REVIEW_DIMENSION_LABELS[dimension]}: ${value}`}
                onClick={() => {
                  focus(index, d);
                  void rate(item.id, dimension, value);
                }}
              >
                {value}
              </button>
            ))}
          </div>
        ))}
      </div>
      <label htmlFor={noteId(item.id)} className="small">
        Note
      </label>
      <textarea
        id={noteId(item.id)}
        rows={focused ? 2 : 1}
        tabIndex={focused ? 0 : -1}
        value={item.note}
        onFocus={() => focus(index, focusedDimension)}
        onChange={(e) => setNoteDraft(item.id, e.target.value)}
        onBlur={() => void saveNote(item.id)}
        style={{ width: '100%' }}
      />
    </article>
  );
}

function SummaryPanel({ summary }: { summary: ReviewSummary }): JSX.Element {
  return (
    <div className="panel" data-testid="review-summary">
      <h3>
        Summary: {summary.rated} / {summary.total} rated ·{' '}
        {summary.meetsTarget === null ? (
          <span className="muted" data-testid="review-target">
            pass rate hidden until the sheet is un-blinded ({formatPercent(summary.target)} target)
          </span>
        ) : (
          <span className={summary.meetsTarget ? 'ok' : 'bad'} data-testid="review-target">
            {summary.meetsTarget ? 'meets' : 'below'} the {formatPercent(summary.target)} target
          </span>
        )}
      </h3>
      <table>
        <tbody>
          {REVIEW_DIMENSIONS.map((d) => (
            <tr key={d}>
              <th scope="row">{REVIEW_DIMENSION_LABELS[d]}</th>
              <td>mean {formatNumber(summary.meanByDimension[d], 2)} / 5</td>
            </tr>
          ))}
          {Object.entries(summary.passRateBySource).map(([source, rate]) => (
            <tr key={source}>
              <th scope="row">Pass rate ({source})</th>
              <td>{formatPercent(rate, 1)} of its answers rated 4 or 5 on every dimension</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ReviewPage(): JSX.Element {
  const runId = useRunsStore(selectCurrentRunId);
  const sheet = useReviewStore(selectReviewSheet);
  const rated = useReviewStore(selectRatedCount);
  const total = useReviewStore(selectReviewTotal);
  const summary = useReviewStore(selectReviewSummary);
  const { itemIndex, dimensionIndex, loading, error, exportPaths } = useReviewStore(
    useShallow((s) => ({
      itemIndex: s.itemIndex,
      dimensionIndex: s.dimensionIndex,
      loading: s.loading,
      error: s.error,
      exportPaths: s.exportPaths,
    })),
  );
  const sheets = useSheetsWithProgress();
  const { create, load, openRun, summarize, exportSheet } = useReviewStore(
    useShallow((s) => ({
      create: s.create,
      load: s.load,
      openRun: s.openRun,
      summarize: s.summarize,
      exportSheet: s.exportSheet,
    })),
  );
  const [blind, setBlind] = useState(true);
  const [mode, setMode] = useState<ReviewMode>('sheet');
  useReviewKeys(mode === 'sheet');
  // After "Create", focus goes to the new sheet: the button is disabled while it works, which
  // dropped focus to the page, and the next Tab started from the top.
  const focusNewSheet = useRef(false);
  const sheetId = sheet?.id ?? null;
  useEffect(() => {
    if (!focusNewSheet.current || sheetId === null) return;
    focusNewSheet.current = false;
    document.getElementById('review-list')?.focus();
  }, [sheetId]);
  const createSheet = (id: string): void => {
    focusNewSheet.current = true;
    void create(id, blind).then(() => {
      if (useReviewStore.getState().error) focusNewSheet.current = false;
    });
  };

  useEffect(() => {
    if (runId) void openRun(runId);
  }, [runId, openRun]);

  if (!runId) {
    return (
      <section>
        <h2>Review</h2>
        <EmptyState title="No run selected">
          <p>Evaluate a run first (Wizard → Evaluate); then rate 50 of its answers here.</p>
        </EmptyState>
      </section>
    );
  }
  const showSheet = sheet && sheet.runId === runId;
  if (mode === 'pairwise') {
    return (
      <section aria-labelledby="review-title">
        <h2 id="review-title">Review</h2>
        <ModeSwitch mode={mode} onChange={setMode} />
        <PairwiseReview runId={runId} />
      </section>
    );
  }
  return (
    <section aria-labelledby="review-title">
      <h2 id="review-title">Review</h2>
      <ModeSwitch mode={mode} onChange={setMode} />
      <div className="panel row">
        <input
          id="review-blind"
          type="checkbox"
          data-testid="review-blind"
          checked={blind}
          onChange={(e) => setBlind(e.target.checked)}
        />
        <label htmlFor="review-blind">Blind (hide which model wrote each answer until the summary)</label>
        <button
          type="button"
          className="primary"
          data-testid="review-create"
          disabled={loading}
          onClick={() => createSheet(runId)}
        >
          {showSheet ? 'New sheet of 50' : 'Create a sheet of 50 responses'}
        </button>
      </div>
      {sheets.length > 1 && (
        <div className="row">
          <label htmlFor="review-sheet">Sheet</label>
          <select
            id="review-sheet"
            data-testid="review-sheets"
            value={sheet?.id ?? ''}
            onChange={(e) => void load(e.target.value)}
          >
            {sheets.map((s) => (
              <option key={s.id} value={s.id}>
                {s.createdAt.slice(0, 16).replace('T', ' ')} · {s.blind ? 'blind' : 'open'} · {s.rated}/
                {s.total} rated
              </option>
            ))}
          </select>
        </div>
      )}
      <ErrorNotice error={error} testId="review-error" />
      {!showSheet ? (
        <EmptyState title="No review sheet for this run">
          <p>Create one: 50 answers drawn from the evaluation, rated 1–5 on four dimensions, by keyboard.</p>
        </EmptyState>
      ) : (
        <>
          <div className="row">
            <strong data-testid="review-progress">
              {rated} / {total} rated
            </strong>
            <button type="button" data-testid="review-summarize" onClick={() => void summarize(false)}>
              Summary
            </button>
            {sheet.blind && (
              <button type="button" data-testid="review-unblind" onClick={() => void summarize(true)}>
                Un-blind and summarize
              </button>
            )}
            <button type="button" data-testid="review-export" onClick={() => void exportSheet()}>
              Export CSV + manual_review.txt
            </button>
          </div>
          {exportPaths && (
            <p className="ok small" role="status" data-testid="review-exported">
              Wrote {exportPaths.csvPath} and {exportPaths.txtPath}
            </p>
          )}
          <KeyHelp />
          {summary && <SummaryPanel summary={summary} />}
          <div id="review-list" tabIndex={-1} aria-label="Responses to rate">
            {sheet.items.map((item, i) => (
              <ReviewItemCard
                key={item.id}
                item={item}
                index={i}
                focused={i === itemIndex}
                focusedDimension={dimensionIndex}
              />
            ))}
          </div>
        </>
      )}
    </section>
  );
}
