// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PairwiseItem, PairwiseSheet } from '../../src-shared/contract';
import { apiError, callsTo, fakeApi, handle, resetFakeApi } from './fakeApi';
import { sheetFixture } from './fixtures';

vi.mock('../../src-renderer/src/api', () => ({ api: fakeApi }));

const { ReviewPage } = await import('../../src-renderer/src/pages/ReviewPage');
const { usePairwiseStore, resetPairwiseStore } = await import('../../src-renderer/src/stores/pairwise');
const { useReviewStore, resetReviewStore } = await import('../../src-renderer/src/stores/review');
const { useRunsStore, resetRunsStore } = await import('../../src-renderer/src/stores/runs');

/** Which model wrote A in each pair (hidden on screen while blind). */
const SOURCES_A = ['student', 'teacher', 'teacher'] as const;

function pairFixture(count: number, revealed = false): PairwiseSheet {
  return {
    id: 'pairwise-1',
    runId: 'run-1',
    blind: !revealed,
    items: Array.from({ length: count }, (_, i) => ({
      id: 201 + i,
      sheetId: 'pairwise-1',
      position: i,
      category: 'composition',
      question: `Pair question ${i + 1}?`,
      answerA: `Answer A${i + 1}.`,
      answerB: `Answer B${i + 1}.`,
      sourceA: revealed ? SOURCES_A[i % 3]! : null,
      sourceB: revealed ? (SOURCES_A[i % 3] === 'student' ? 'teacher' : 'student') : null,
      choice: null,
    })),
  };
}

function press(key: string, target: Element | Window = window): void {
  act(() => {
    fireEvent.keyDown(target, { key });
  });
}

async function settle(): Promise<void> {
  await act(async () => {
    await Promise.resolve();
    await Promise.resolve();
  });
}

function stored(): PairwiseItem[] {
  return usePairwiseStore.getState().sheet?.items ?? [];
}

async function openPairwise(): Promise<void> {
  render(<ReviewPage />);
  fireEvent.click(screen.getByTestId('review-mode-pairwise'));
  await settle();
}

beforeEach(() => {
  resetFakeApi();
  localStorage.clear();
  resetRunsStore();
  resetReviewStore();
  resetPairwiseStore();
  handle('review:list', () => []);
  handle('pairwise:list', () => [
    {
      id: 'pairwise-1',
      runId: 'run-1',
      unblinded: false,
      createdAt: '2026-12-01T10:00:00Z',
      judged: 0,
      total: 3,
    },
  ]);
  handle('pairwise:get', () => pairFixture(3));
  handle('pairwise:choose', ({ itemId, choice }) => {
    const item = pairFixture(3).items.find((i) => i.id === itemId) as PairwiseItem;
    return { ...item, choice };
  });
  useRunsStore.setState({ currentRunId: 'run-1' });
  useReviewStore.setState({ sheet: sheetFixture(3) });
});
afterEach(cleanup);

describe('pairwise A/B review by keyboard', () => {
  it('opens the run’s sheet with the sources hidden and the keys on screen', async () => {
    await openPairwise();
    expect(callsTo('pairwise:list')).toEqual([{ runId: 'run-1' }]);
    expect(screen.getByTestId('pairwise-keys').textContent).toMatch(/1.*A is better.*2.*B is better.*0.*tie/);
    expect(screen.getByTestId('pairwise-progress').textContent).toBe('0 / 3 judged');
    expect(screen.getByTestId('pairwise-position').textContent).toBe('1 / 3');
    expect(screen.getByTestId('pairwise-answer-a').textContent).toContain('Answer A1.');
    expect(screen.getByTestId('pairwise-answer-b').textContent).toContain('Answer B1.');
    expect(screen.queryAllByTestId('pairwise-source')).toHaveLength(0);
    // The rating sheet's keys are off in this view: no 1-5 rating reaches review:rate.
    expect(screen.queryAllByTestId('review-item')).toHaveLength(0);
  });

  it('1, 2 and 0 pick A, B and a tie, each saved at once, and move to the next pair', async () => {
    await openPairwise();
    press('1');
    await settle();
    expect(screen.getByTestId('pairwise-position').textContent).toBe('2 / 3');
    press('2');
    await settle();
    press('0');
    await settle();
    expect(callsTo('pairwise:choose')).toEqual([
      { itemId: 201, choice: 'a' },
      { itemId: 202, choice: 'b' },
      { itemId: 203, choice: 'tie' },
    ]);
    expect(stored().map((i) => i.choice)).toEqual(['a', 'b', 'tie']);
    expect(screen.getByTestId('pairwise-progress').textContent).toBe('3 / 3 judged');
    // The last pair stays on screen with its judgement shown.
    expect(screen.getByTestId('pairwise-position').textContent).toBe('3 / 3');
    expect(screen.getByTestId('pairwise-choice').textContent).toBe('tie');
    expect(screen.getByTestId('pairwise-pick-tie').getAttribute('aria-pressed')).toBe('true');
    expect(callsTo('review:rate')).toHaveLength(0);
  });

  it('arrows move between pairs without judging; other keys judge nothing; Backspace clears', async () => {
    await openPairwise();
    press('ArrowRight');
    press('ArrowDown');
    expect(screen.getByTestId('pairwise-position').textContent).toBe('3 / 3');
    press('ArrowRight');
    expect(screen.getByTestId('pairwise-position').textContent).toBe('3 / 3');
    press('ArrowLeft');
    press('ArrowUp');
    press('ArrowUp');
    expect(screen.getByTestId('pairwise-position').textContent).toBe('1 / 3');
    for (const key of ['3', '5', 'a', 'Enter']) press(key);
    expect(callsTo('pairwise:choose')).toHaveLength(0);
    press('2');
    await settle();
    press('ArrowLeft');
    press('Backspace');
    await settle();
    expect(callsTo('pairwise:choose')).toEqual([
      { itemId: 201, choice: 'b' },
      { itemId: 201, choice: null },
    ]);
    expect(screen.getByTestId('pairwise-choice').textContent).toBe('not judged yet');
  });

  it('the mouse picks too, and a failed save puts the pair back and says why', async () => {
    await openPairwise();
    fireEvent.click(screen.getByTestId('pairwise-pick-b'));
    await settle();
    expect(callsTo('pairwise:choose')).toEqual([{ itemId: 201, choice: 'b' }]);
    expect(screen.getByTestId('pairwise-pick-b').getAttribute('aria-pressed')).toBe('true');
    handle('pairwise:choose', () => {
      throw apiError('store', 'database is locked');
    });
    fireEvent.click(screen.getByTestId('pairwise-pick-a'));
    await settle();
    expect(screen.getByTestId('pairwise-pick-b').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('pairwise-error').textContent).toContain('database is locked');
  });

  it('keys typed in a form field stay there', async () => {
    await openPairwise();
    const field = document.createElement('input');
    document.body.appendChild(field);
    press('1', field);
    expect(callsTo('pairwise:choose')).toHaveLength(0);
    field.remove();
  });

  it('un-blinding shows the sources and the student’s preference share with its interval', async () => {
    handle('pairwise:summary', ({ unblind }) => ({
      sheetId: 'pairwise-1',
      judged: 3,
      total: 3,
      picks: { a: 1, b: 1, tie: 1 },
      student: unblind
        ? {
            against: 'teacher',
            wins: 1,
            losses: 1,
            ties: 1,
            share: 0.5,
            interval: { low: 0.1667, high: 0.8333 },
          }
        : null,
    }));
    await openPairwise();
    fireEvent.click(screen.getByTestId('pairwise-summarize'));
    await settle();
    expect(screen.getByTestId('pairwise-share').textContent).toMatch(/hidden until the sheet is un-blinded/);
    handle('pairwise:get', () => pairFixture(3, true));
    fireEvent.click(screen.getByTestId('pairwise-unblind'));
    await settle();
    await settle();
    expect(screen.getByTestId('pairwise-share').textContent).toContain(
      'Student preferred: 50.0% [16.7–83.3%]',
    );
    expect(screen.getByTestId('pairwise-share').textContent).toContain('a tie counts as half a win');
    expect(screen.getAllByTestId('pairwise-source').map((el) => el.textContent)).toEqual([
      'student',
      'teacher',
    ]);
    expect(screen.queryByTestId('pairwise-unblind')).toBeNull();
  });
});
