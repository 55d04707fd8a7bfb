import { useEffect, type JSX } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { PairwiseChoice, PairwiseItem, PairwiseSummary } from '../../../src-shared/contract';
import {
  selectFocusedPair,
  selectJudgedCount,
  selectPairCount,
  selectPairwiseIndex,
  selectPairwiseSheet,
  selectPairwiseSummary,
  usePairwiseSheetsWithProgress,
  usePairwiseStore,
} from '../stores/pairwise';
import { EmptyState } from './EmptyState';
import { ErrorNotice } from './ErrorNotice';
import { formatPercent, formatPercentInterval } from './format';

/** The keys that judge the pair on screen. */
const CHOICE_KEYS: Readonly<Record<string, PairwiseChoice>> = { '1': 'a', '2': 'b', '0': 'tie' };

/** Keys typed into these stay theirs. */
function isFormField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/**
 * 1 picks A, 2 picks B, 0 calls a tie (each saved, then the next pair); Left/Up and Right/Down
 * move between pairs; Backspace clears the pair's judgement.
 */
function usePairwiseKeys(): void {
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent): void => {
      if (event.ctrlKey || event.metaKey || event.altKey || isFormField(event.target)) return;
      const store = usePairwiseStore.getState();
      if (!store.sheet) return;
      const choice = CHOICE_KEYS[event.key];
      if (choice) {
        event.preventDefault();
        void store.chooseFocused(choice);
      } else if (event.key === 'ArrowRight' || event.key === 'ArrowDown') {
        event.preventDefault();
        store.move(1);
      } else if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') {
        event.preventDefault();
        store.move(-1);
      } else if (event.key === 'Backspace') {
        const item = store.sheet.items[store.index];
        if (!item || item.choice === null) return;
        event.preventDefault();
        void store.choose(item.id, null);
      }
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);
}

function choiceLabel(item: PairwiseItem): string {
  if (item.choice === null) return 'not judged yet';
  if (item.choice === 'tie') return 'tie';
  const side = item.choice === 'a' ? 'A' : 'B';
  const source = item.choice === 'a' ? item.sourceA : item.sourceB;
  return source ? `${side} (${source}) is better` : `${side} is better`;
}

function Answer({ item, side }: { item: PairwiseItem; side: 'a' | 'b' }): JSX.Element {
  const choose = usePairwiseStore((s) => s.choose);
  const label = side.toUpperCase();
  const source = side === 'a' ? item.sourceA : item.sourceB;
  const picked = item.choice === side;
  return (
    <div className="pair-answer" data-testid={`pairwise-answer-${side}`} data-picked={picked}>
      <header className="row">
        <strong>Answer {label}</strong>
        {source !== null ? (
          <span className="badge" data-testid="pairwise-source">
            {source}
          </span>
        ) : (
          <span className="badge">source hidden</span>
        )}
      </header>
      <p className="answer">{side === 'a' ? item.answerA : item.answerB}</p>
      <button
        type="button"
        className="rating-button"
        data-testid={`pairwise-pick-${side}`}
        aria-pressed={picked}
        onClick={() => void choose(item.id, side)}
      >
        {label} is better ({side === 'a' ? '1' : '2'})
      </button>
    </div>
  );
}

function SummaryPanel({ summary }: { summary: PairwiseSummary }): JSX.Element {
  const s = summary.student;
  return (
    <div className="panel" data-testid="pairwise-summary" role="status">
      <h3>
        Summary: {summary.judged} / {summary.total} pairs judged
      </h3>
      {s ? (
        <p data-testid="pairwise-share">
          <strong>
            Student preferred: {formatPercent(s.share, 1)}
            {formatPercentInterval(s.interval)}
          </strong>{' '}
          against the {s.against} ({s.wins} won, {s.losses} lost, {s.ties} ties; a tie counts as half a win;
          95% bootstrap interval over the pairs). 50% means neither answer was preferred.
        </p>
      ) : (
        <p className="muted" data-testid="pairwise-share">
          The student&apos;s preference share is hidden until the sheet is un-blinded (picks so far: A{' '}
          {summary.picks.a}, B {summary.picks.b}, tie {summary.picks.tie}).
        </p>
      )}
    </div>
  );
}

/** The Review page's "A/B pairs" view: student against teacher, one question at a time. */
export function PairwiseReview({ runId }: { runId: string }): JSX.Element {
  const sheet = usePairwiseStore(selectPairwiseSheet);
  const item = usePairwiseStore(selectFocusedPair);
  const index = usePairwiseStore(selectPairwiseIndex);
  const judged = usePairwiseStore(selectJudgedCount);
  const total = usePairwiseStore(selectPairCount);
  const summary = usePairwiseStore(selectPairwiseSummary);
  const sheets = usePairwiseSheetsWithProgress();
  const { loading, error, exported, openRun, create, load, choose, move, summarize, exportSheet } =
    usePairwiseStore(
      useShallow((s) => ({
        loading: s.loading,
        error: s.error,
        exported: s.exported,
        openRun: s.openRun,
        create: s.create,
        load: s.load,
        choose: s.choose,
        move: s.move,
        summarize: s.summarize,
        exportSheet: s.exportSheet,
      })),
    );
  usePairwiseKeys();
  useEffect(() => {
    void openRun(runId);
  }, [runId, openRun]);

  const showSheet = sheet && sheet.runId === runId;
  return (
    <div data-testid="pairwise">
      <div className="panel row">
        <p className="small">
          Student against teacher on held-out questions: which answer is A is drawn per pair and which model
          wrote it stays hidden until you un-blind the sheet.
        </p>
        <button
          type="button"
          className="primary"
          data-testid="pairwise-create"
          disabled={loading}
          onClick={() => void create(runId)}
        >
          {showSheet ? 'New A/B sheet' : 'Create an A/B sheet of up to 50 pairs'}
        </button>
      </div>
      {sheets.length > 1 && (
        <div className="row">
          <label htmlFor="pairwise-sheet">A/B sheet</label>
          <select
            id="pairwise-sheet"
            data-testid="pairwise-sheets"
            value={sheet?.id ?? ''}
            onChange={(e) => void load(e.target.value)}
          >
            {sheets.map((s) => (
              <option key={s.id} value={s.id}>
                {s.createdAt.slice(0, 16).replace('T', ' ')} · {s.unblinded ? 'un-blinded' : 'blind'} ·{' '}
                {s.judged}/{s.total} judged
              </option>
            ))}
          </select>
        </div>
      )}
      <ErrorNotice error={error} testId="pairwise-error" />
      {!showSheet ? (
        <EmptyState title="No A/B sheet for this run">
          <p>Create one: for each held-out question, pick the better of two answers by keyboard.</p>
        </EmptyState>
      ) : (
        <>
          <div className="row">
            <strong data-testid="pairwise-progress">
              {judged} / {total} judged
            </strong>
            <button type="button" data-testid="pairwise-summarize" onClick={() => void summarize(false)}>
              Summary
            </button>
            {sheet.blind && (
              <button type="button" data-testid="pairwise-unblind" onClick={() => void summarize(true)}>
                Un-blind and summarize
              </button>
            )}
            <button type="button" data-testid="pairwise-export" onClick={() => void exportSheet()}>
              Export pairwise_review.csv
            </button>
          </div>
          {exported && (
            <p className="ok small" role="status" data-testid="pairwise-exported">
              Wrote {exported.csvPath}
              {exported.reportPath ? ` and updated ${exported.reportPath}` : ''}
            </p>
          )}
          <p className="keys muted" data-testid="pairwise-keys">
            Keys: <kbd>1</kbd> A is better · <kbd>2</kbd> B is better · <kbd>0</kbd> tie (each saved, then the
            next pair) · <kbd>←</kbd> <kbd>→</kbd> previous / next pair · <kbd>Backspace</kbd> clear
          </p>
          {summary && <SummaryPanel summary={summary} />}
          {item && (
            <article
              className="review-item"
              data-testid="pairwise-item"
              data-position={item.position}
              aria-label={`Pair ${index + 1} of ${total}`}
            >
              <header className="row">
                <strong data-testid="pairwise-position">
                  {index + 1} / {total}
                </strong>
                <span className="badge">{item.category}</span>
                <span className="muted" data-testid="pairwise-choice">
                  {choiceLabel(item)}
                </span>
              </header>
              <p>
                <b>Q:</b> {item.question}
              </p>
              <div className="pair">
                <Answer item={item} side="a" />
                <Answer item={item} side="b" />
              </div>
              <div className="row">
                <button
                  type="button"
                  data-testid="pairwise-prev"
                  disabled={index === 0}
                  onClick={() => move(-1)}
                >
                  ← Previous
                </button>
                <button
                  type="button"
                  className="rating-button"
                  data-testid="pairwise-pick-tie"
                  aria-pressed={item.choice === 'tie'}
                  onClick={() => void choose(item.id, 'tie')}
                >
                  Tie (0)
                </button>
                <button
                  type="button"
                  data-testid="pairwise-next"
                  disabled={index >= total - 1}
                  onClick={() => move(1)}
                >
                  Next →
                </button>
              </div>
            </article>
          )}
        </>
      )}
    </div>
  );
}
