/**
 * Rating a review sheet with the keyboard alone: after the sheet exists, no mouse. A sheet holds
 * up to 50 responses drawn from the run's evaluation (10 per category); the smoke run of these
 * tests evaluates 8 held-out questions, so its sheet holds 8 and every one of them is rated.
 */
import { expect, test } from '@playwright/test';
import { REVIEW_DIMENSIONS } from '../../src-shared/contract';
import { callApi, openPage, screenshot, trackConsole } from './support/app';
import type { BrowserGlobals } from './support/browser';

test('rates every response of a review sheet with the keyboard alone', async ({ page, request }) => {
  test.setTimeout(240_000);
  const errors = trackConsole(page);
  await openPage(page, 'review');
  await page.getByTestId('review-create').click();
  const items = page.getByTestId('review-item');
  await expect(items.first()).toBeVisible({ timeout: 60_000 });
  const total = await items.count();
  expect(total).toBeGreaterThan(0);
  expect(total).toBeLessThanOrEqual(50);

  await page.locator('#review-list').focus();
  // A note on the first response: n opens its field, Escape saves and leaves it.
  await page.keyboard.press('n');
  await page.keyboard.type('Sounds like him.');
  await page.keyboard.press('Escape');
  // 1-5 rate the highlighted dimension and move on (to the next response after the fourth).
  const expected: number[][] = [];
  for (let i = 0; i < total; i += 1) {
    const row = REVIEW_DIMENSIONS.map((_, d) => ((i + d) % 5) + 1);
    expected.push(row);
    for (const value of row) await page.keyboard.press(String(value));
  }
  await expect(page.getByTestId('review-progress')).toHaveText(`${total} / ${total} rated`, {
    timeout: 30_000,
  });

  // What the server stored, item by item, in sheet order.
  const sheetId = await page.evaluate(() => {
    const { localStorage } = globalThis as unknown as BrowserGlobals;
    for (let i = 0; i < localStorage.length; i += 1) {
      const key = localStorage.key(i) ?? '';
      if (key.startsWith('character-studio.reviewSheet.')) return localStorage.getItem(key);
    }
    return null;
  });
  expect(sheetId).not.toBeNull();
  const sheet = await callApi(request, 'review:get', { sheetId: sheetId! });
  const stored = [...sheet.items]
    .sort((a, b) => a.position - b.position)
    .map((item) => REVIEW_DIMENSIONS.map((d) => item.ratings[d]));
  expect(stored).toEqual(expected);
  expect(sheet.items.find((item) => item.position === 0)?.note).toBe('Sounds like him.');

  await page.getByTestId('review-summarize').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('review-summary')).toContainText(`${total} / ${total} rated`);
  await screenshot(page, 'review-rated');
  expect(errors).toEqual([]);
});
