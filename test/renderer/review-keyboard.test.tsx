// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReviewItem } from '../../src-shared/contract';
import { callsTo, fakeApi, handle, resetFakeApi } from './fakeApi';
import { sheetFixture } from './fixtures';

vi.mock('../../src-renderer/src/api', () => ({ api: fakeApi }));

const { ReviewPage } = await import('../../src-renderer/src/pages/ReviewPage');
const { useReviewStore, resetReviewStore } = await import('../../src-renderer/src/stores/review');
const { useRunsStore, resetRunsStore } = await import('../../src-renderer/src/stores/runs');

function press(key: string, target: Element | Window = window): void {
  act(() => {
    fireEvent.keyDown(target, { key });
  });
}

async function settle(): Promise<void> {
  await act(async () => {
    await Promise.resolve();
  });
}

function focusedItem(): HTMLElement {
  const items = screen.getAllByTestId('review-item');
  const focused = items.filter((el) => el.getAttribute('data-focused') === 'true');
  expect(focused).toHaveLength(1);
  return focused[0] as HTMLElement;
}

function focusedDimension(): string | null {
  const dims = focusedItem().querySelectorAll('[data-focused="true"]');
  expect(dims).toHaveLength(1);
  return dims[0]?.getAttribute('data-testid') ?? null;
}

beforeEach(() => {
  resetFakeApi();
  localStorage.clear();
  resetRunsStore();
  resetReviewStore();
  handle('review:rate', ({ itemId, dimension, value }) => {
    const item = useReviewStore.getState().sheet?.items.find((i) => i.id === itemId) as ReviewItem;
    return { ...item, ratings: { ...item.ratings, [dimension]: value } };
  });
  handle('review:note', ({ itemId, note }) => {
    const item = useReviewStore.getState().sheet?.items.find((i) => i.id === itemId) as ReviewItem;
    return { ...item, note };
  });
  useRunsStore.setState({ currentRunId: 'run-1' });
  useReviewStore.setState({ sheet: sheetFixture(3) });
});
afterEach(cleanup);

describe('review page keyboard flow', () => {
  it('documents the keys on screen and shows progress', () => {
    render(<ReviewPage />);
    expect(screen.getByTestId('review-keys').textContent).toMatch(/1.*5.*rate/);
    expect(screen.getByTestId('review-progress').textContent).toBe('0 / 3 rated');
    expect(screen.getAllByTestId('review-item')).toHaveLength(3);
  });

  it('digits rate the focused dimension and save each rating at once', async () => {
    render(<ReviewPage />);
    expect(focusedDimension()).toBe('review-dimension-characterConsistency');
    press('4');
    await settle();
    expect(callsTo('review:rate')).toEqual([{ itemId: 101, dimension: 'characterConsistency', value: 4 }]);
    expect(focusedDimension()).toBe('review-dimension-historicalAccuracy');
    const pressed = within(screen.getAllByTestId('review-item')[0] as HTMLElement).getByRole('button', {
      name: 'Character consistency: 4',
    });
    expect(pressed.getAttribute('aria-pressed')).toBe('true');
    for (const key of ['5', '3', '2']) press(key);
    await settle();
    expect(screen.getByTestId('review-progress').textContent).toBe('1 / 3 rated');
    // All four done: focus moved on to the second response.
    expect(focusedItem()).toBe(screen.getAllByTestId('review-item')[1]);
  });

  it('arrows move between dimensions and items; keys other than 1-5 rate nothing', () => {
    render(<ReviewPage />);
    press('ArrowRight');
    press('ArrowRight');
    expect(focusedDimension()).toBe('review-dimension-emotionalAuthenticity');
    press('ArrowLeft');
    expect(focusedDimension()).toBe('review-dimension-historicalAccuracy');
    press('ArrowDown');
    expect(focusedItem()).toBe(screen.getAllByTestId('review-item')[1]);
    expect(focusedDimension()).toBe('review-dimension-historicalAccuracy');
    press('ArrowUp');
    press('ArrowUp');
    expect(focusedItem()).toBe(screen.getAllByTestId('review-item')[0]);
    press('0');
    press('6');
    expect(callsTo('review:rate')).toHaveLength(0);
  });

  it('n opens the note field, digits typed there stay text, Escape leaves and saves the note', async () => {
    render(<ReviewPage />);
    press('ArrowDown');
    press('n');
    const note = document.getElementById('review-note-102') as HTMLTextAreaElement;
    expect(document.activeElement).toBe(note);
    fireEvent.change(note, { target: { value: 'Too modern: says "okay"' } });
    press('3', note);
    expect(callsTo('review:rate')).toHaveLength(0);
    press('Escape', note);
    await settle();
    expect(document.activeElement).not.toBe(note);
    expect(callsTo('review:note')).toContainEqual({ itemId: 102, note: 'Too modern: says "okay"' });
    // Back in rating mode: digits rate again.
    press('5');
    await settle();
    expect(callsTo('review:rate')).toEqual([{ itemId: 102, dimension: 'characterConsistency', value: 5 }]);
  });

  it('moves focus to the new sheet once it is created (issue 18 #10: it dropped to the page)', async () => {
    handle('review:list', () => []);
    handle('review:create', ({ runId }) => ({ ...sheetFixture(3, runId), id: 'sheet-2' }));
    useReviewStore.setState({ sheet: null });
    render(<ReviewPage />);
    await settle();
    const button = screen.getByTestId('review-create');
    button.focus();
    fireEvent.click(button);
    for (let i = 0; i < 3; i += 1) await settle();
    expect(useReviewStore.getState().sheet?.id).toBe('sheet-2');
    expect(document.activeElement?.id).toBe('review-list');
  });

  it('hides the source of each answer in blind mode', () => {
    render(<ReviewPage />);
    expect(screen.queryAllByTestId('review-source')).toHaveLength(0);
    act(() => {
      const sheet = sheetFixture(3);
      useReviewStore.setState({
        sheet: {
          ...sheet,
          blind: false,
          items: sheet.items.map((i) => ({ ...i, source: 'teacher' as const })),
        },
      });
    });
    expect(screen.getAllByTestId('review-source').map((el) => el.textContent)).toEqual([
      'teacher',
      'teacher',
      'teacher',
    ]);
  });
});
