/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser: they use DOM types.)
/** Rating a review sheet with the keyboard alone: no mouse after the sheet exists. */
import { expect, test } from '@playwright/test';
import { REVIEW_DIMENSIONS } from '../../src-shared/contract';
import { callApi, openPage, screenshot, trackConsole } from './support/app';

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

  // Focus the list itself, then keys only: 1-5 rate the highlighted dimension and move on.
  await page.locator('#review-list').focus();
  for (let i = 0; i < total; i += 1) {
    for (let d = 0; d < REVIEW_DIMENSIONS.length; d += 1)
      await page.keyboard.press(String(((i + d) % 5) + 1));
    // Moving on after the last dimension is explicit: ArrowDown goes to the next response.
    if (i < total - 1) await page.keyboard.press('ArrowDown');
  }
  await expect(page.getByTestId('review-progress')).toHaveText(`${total} / ${total} rated`, {
    timeout: 30_000,
  });

  const sheetId = await page.evaluate(() => {
    for (let i = 0; i < localStorage.length; i += 1) {
      const key = localStorage.key(i) ?? '';
      if (key.includes('review')) return localStorage.getItem(key);
    }
    return null;
  });
  if (sheetId) {
    const sheet = await callApi(request, 'review:get', { sheetId: sheetId.replace(/"/g, '') });
    expect(
      sheet.items.every((item) => REVIEW_DIMENSIONS.every((d) => typeof item.ratings[d] === 'number')),
    ).toBe(true);
  }
  await page.getByTestId('review-summarize').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('review-summary')).toBeVisible();
  await screenshot(page, 'review-rated');
  expect(errors).toEqual([]);
});
