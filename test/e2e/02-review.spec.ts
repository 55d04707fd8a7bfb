/**
 * Rating the 50-response review sheet with the keyboard alone: no mouse from creating the
 * sheet to exporting it. The E2E server's smoke run evaluates 36 held-out questions (4 per
 * category, see support/global-setup.ts), so a blind sheet holds 50 responses, 10 in each of the
 * 5 review categories, mixing student, teacher and base answers. All 50 are rated with digits
 * (and arrows to correct and move), then the summary, the un-blinding and the export files on
 * disk are checked against the ratings typed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { REVIEW_DIMENSIONS, type ReviewItem } from '../../src-shared/contract';
import { parseCsv } from '../../src-main/datasets';
import { REVIEW_CATEGORIES } from '../../src-main/review';
import { callApi, openPage, screenshot, trackConsole } from './support/app';
import type { BrowserGlobals } from './support/browser';

const SHEET_SIZE = 50;

/** The ratings typed for response i: every fifth passes (all >= 4), the others do not. */
function ratingsFor(i: number): number[] {
  return i % 5 === 0 ? [5, 4, 5, 4] : REVIEW_DIMENSIONS.map((_, d) => ((i + d) % 5) + 1);
}

/** Focuses a control without the mouse and presses Enter on it. */
async function pressButton(page: Page, testId: string): Promise<void> {
  await page.getByTestId(testId).focus();
  await page.keyboard.press('Enter');
}

async function storedSheet(page: Page, request: Parameters<typeof callApi>[0]): Promise<ReviewItem[]> {
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
  return [...sheet.items].sort((a, b) => a.position - b.position);
}

test('rates all 50 responses of a blind review sheet with the keyboard alone', async ({ page, request }) => {
  test.setTimeout(240_000);
  const errors = trackConsole(page);
  await openPage(page, 'review');
  await expect(page.getByTestId('review-blind')).toBeChecked();
  await pressButton(page, 'review-create');
  const items = page.getByTestId('review-item');
  await expect(items).toHaveCount(SHEET_SIZE, { timeout: 60_000 });
  await expect(page.getByTestId('review-progress')).toHaveText(`0 / ${SHEET_SIZE} rated`);
  await expect(page.getByTestId('review-source')).toHaveCount(0);

  await page.locator('#review-list').focus();
  // A note on the first response: n opens its field, Escape saves and leaves it.
  await page.keyboard.press('n');
  await page.keyboard.type('Sounds like him.');
  await page.keyboard.press('Escape');

  const expected = [...Array(SHEET_SIZE).keys()].map(ratingsFor);
  // Response 1: a wrong first rating, corrected with Left (once the server holds it, so the
  // two saves of that dimension cannot cross), then the rest.
  await page.keyboard.press('1');
  await expect.poll(async () => (await storedSheet(page, request))[0]?.ratings.characterConsistency).toBe(1);
  await page.keyboard.press('ArrowLeft');
  for (const value of expected[0]!) await page.keyboard.press(String(value));
  for (let i = 1; i < SHEET_SIZE; i += 1) {
    // Down and Up: away to the next response and back, without rating anything.
    if (i % 10 === 0) {
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowUp');
    }
    for (const value of expected[i]!) await page.keyboard.press(String(value));
  }
  await expect(page.getByTestId('review-progress')).toHaveText(`${SHEET_SIZE} / ${SHEET_SIZE} rated`, {
    timeout: 30_000,
  });

  // What the server stored, item by item, in sheet order; 10 responses in each category.
  await expect
    .poll(async () =>
      (await storedSheet(page, request)).map((it) => REVIEW_DIMENSIONS.map((d) => it.ratings[d])),
    )
    .toEqual(expected);
  const stored = await storedSheet(page, request);
  expect(stored[0]?.note).toBe('Sounds like him.');
  expect(stored.every((it) => it.source === null)).toBe(true);
  const perCategory = new Map<string, number>();
  for (const it of stored) perCategory.set(it.category, (perCategory.get(it.category) ?? 0) + 1);
  expect([...perCategory.entries()].sort()).toEqual(REVIEW_CATEGORIES.map((c) => [c, 10]).sort());

  // The summary while blind: means per dimension, no pass rates yet.
  await pressButton(page, 'review-summarize');
  const summary = page.getByTestId('review-summary');
  await expect(summary).toContainText(`${SHEET_SIZE} / ${SHEET_SIZE} rated`);
  // While blind the pass rate is hidden, so the summary cannot say whether it meets the target.
  await expect(summary).toContainText('pass rate hidden until the sheet is un-blinded (90% target)');
  await expect(summary).not.toContainText('below the');
  for (let d = 0; d < REVIEW_DIMENSIONS.length; d += 1) {
    const mean = expected.reduce((sum, row) => sum + row[d]!, 0) / SHEET_SIZE;
    await expect(summary.locator('tr').nth(d)).toContainText(`mean ${mean.toFixed(2)} / 5`);
  }
  await expect(summary).not.toContainText('Pass rate');

  // Export while blind: the files on disk hold every rating, sources hidden.
  await pressButton(page, 'review-export');
  const exported = page.getByTestId('review-exported');
  await expect(exported).toBeVisible();
  const match = /^Wrote (.+manual_review\.csv) and (.+manual_review\.txt)$/.exec(
    (await exported.innerText()).trim(),
  );
  expect(match).not.toBeNull();
  const [, csvPath, txtPath] = match!;
  expect(existsSync(csvPath!) && existsSync(txtPath!)).toBe(true);
  const rows = parseCsv(readFileSync(csvPath!, 'utf8'));
  const header = rows[0]!;
  expect(rows).toHaveLength(SHEET_SIZE + 1);
  const col = (name: string): number => header.indexOf(name);
  rows.slice(1).forEach((row, i) => {
    expect(row[col('position')]).toBe(String(i + 1));
    expect(row[col('source')]).toBe('hidden');
    expect(REVIEW_DIMENSIONS.map((d) => Number(row[col(d)]))).toEqual(expected[i]);
    expect(row[col('pass')]).toBe(String(i % 5 === 0));
  });
  expect(rows[1]![col('note')]).toBe('Sounds like him.');
  const txt = readFileSync(txtPath!, 'utf8');
  expect(txt).toContain('BLIND: sources hidden');
  expect(txt).toContain(`#${SHEET_SIZE}  [`);
  expect(txt).toContain(`Rated: ${SHEET_SIZE}/${SHEET_SIZE}`);

  // Un-blinding reveals the three models; their pass rates follow from the ratings typed.
  await pressButton(page, 'review-unblind');
  await expect(page.getByTestId('review-source')).toHaveCount(SHEET_SIZE);
  const revealed = await storedSheet(page, request);
  const sources = new Set(revealed.map((it) => it.source));
  expect(sources).toEqual(new Set(['student', 'teacher', 'base']));
  for (const source of sources) {
    const mine = revealed.filter((it) => it.source === source);
    const rate = mine.filter((it) => it.position % 5 === 0).length / mine.length;
    await expect(summary.locator('tr', { hasText: `Pass rate (${source})` })).toContainText(
      `${(rate * 100).toFixed(1)}% of its answers`,
    );
  }
  // Every fifth response passes: 20% of the sheet, so once un-blinded it is below the target.
  await expect(summary).toContainText('below the 90% target');
  await pressButton(page, 'review-export');
  await expect
    .poll(() =>
      parseCsv(readFileSync(csvPath!, 'utf8'))
        .slice(1)
        .map((row) => row[col('source')]),
    )
    .toEqual(revealed.map((it) => it.source));
  await screenshot(page, 'review-rated');
  expect(errors).toEqual([]);
});
