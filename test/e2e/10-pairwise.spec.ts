/**
 * The pairwise A/B review with the keyboard alone: on the run 01-wizard evaluated (36 held-out
 * smoke questions), an A/B sheet pairs the student's and the teacher's answer per question, the
 * sources hidden; every pair is judged with 1 / 2 / 0 (and arrows to go back and correct one),
 * then the un-blinded summary's preference share is checked against what the server stored,
 * and the CSV export on disk.
 */
import { existsSync, readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import type { PairwiseChoice, PairwiseItem } from '../../src-shared/contract';
import { parseCsv } from '../../src-main/datasets';
import { callApi, openPage, screenshot, trackConsole } from './support/app';
import type { BrowserGlobals } from './support/browser';

/** The key typed for pair i: A, B and tie in turn. */
const KEYS = ['1', '2', '0'] as const;
const CHOICE: Record<(typeof KEYS)[number], PairwiseChoice> = { '1': 'a', '2': 'b', '0': 'tie' };

async function pressButton(page: Page, testId: string): Promise<void> {
  await page.getByTestId(testId).focus();
  await page.keyboard.press('Enter');
}

test('judges every student/teacher pair of an A/B sheet with the keyboard alone', async ({
  page,
  request,
}) => {
  test.setTimeout(60_000);
  const errors = trackConsole(page);
  await openPage(page, 'review');
  // Earlier specs create newer runs (07-tabs, the page checks), and the newest is selected: pick
  // the run 01-wizard evaluated.
  const runs = await callApi(request, 'runs:list', undefined);
  const evaluated = runs.find((r) => r.status === 'completed');
  expect(evaluated, 'the run 01-wizard evaluated').toBeDefined();
  await page.getByRole('combobox', { name: 'Run' }).selectOption(evaluated!.id);
  await pressButton(page, 'review-mode-pairwise');
  await pressButton(page, 'pairwise-create');
  const progress = page.getByTestId('pairwise-progress');
  await expect(progress).toHaveText(/^0 \/ \d+ judged$/);
  const total = Number(/\/ (\d+)/.exec(await progress.innerText())![1]);
  expect(total).toBeGreaterThanOrEqual(10);
  await expect(page.getByTestId('pairwise-source')).toHaveCount(0);
  const sheetId = await page.evaluate(() => {
    const storage = (globalThis as unknown as BrowserGlobals).localStorage;
    for (let i = 0; i < storage.length; i += 1) {
      const key = storage.key(i) ?? '';
      if (key.startsWith('character-studio.pairwiseSheet.')) return storage.getItem(key);
    }
    return null;
  });
  expect(sheetId).not.toBeNull();

  // Pair 1: B first, then back with Left and corrected to A; the rest in turn A, B, tie.
  await page.keyboard.press('2');
  await expect(page.getByTestId('pairwise-position')).toHaveText(`2 / ${total}`);
  await page.keyboard.press('ArrowLeft');
  const expected = [...Array(total).keys()].map((i) => KEYS[i % 3]!);
  for (const key of expected) await page.keyboard.press(key);
  await expect(progress).toHaveText(`${total} / ${total} judged`, { timeout: 15_000 });

  const stored = async (): Promise<PairwiseItem[]> =>
    (await callApi(request, 'pairwise:get', { sheetId: sheetId! })).items;
  await expect
    .poll(async () => (await stored()).map((it) => it.choice))
    .toEqual(expected.map((k) => CHOICE[k]));
  expect((await stored()).every((it) => it.sourceA === null && it.sourceB === null)).toBe(true);

  // While blind the share is hidden; un-blinded it follows from the sources and the keys typed.
  await pressButton(page, 'pairwise-summarize');
  await expect(page.getByTestId('pairwise-share')).toContainText('hidden until the sheet is un-blinded');
  await pressButton(page, 'pairwise-unblind');
  await expect(page.getByTestId('pairwise-source')).toHaveCount(2);
  const revealed = await stored();
  const scores: number[] = revealed.map((it) =>
    it.choice === 'tie' ? 0.5 : (it.choice === 'a' ? it.sourceA : it.sourceB) === 'student' ? 1 : 0,
  );
  const share = scores.reduce((a, b) => a + b, 0) / scores.length;
  await expect(page.getByTestId('pairwise-share')).toContainText(
    `Student preferred: ${(share * 100).toFixed(1)}%`,
  );
  await expect(page.getByTestId('pairwise-share')).toContainText('a tie counts as half a win');

  await pressButton(page, 'pairwise-export');
  await expect(page.getByTestId('pairwise-exported')).toBeVisible();
  const exported = await callApi(request, 'pairwise:export', { sheetId: sheetId! });
  expect(existsSync(exported.csvPath)).toBe(true);
  const rows = parseCsv(readFileSync(exported.csvPath, 'utf8'));
  const col = (name: string): number => rows[0]!.indexOf(name);
  expect(rows).toHaveLength(total + 1);
  expect(rows.slice(1).map((r) => Number(r[col('student_score')]))).toEqual(scores);
  if (exported.reportPath) {
    expect(readFileSync(exported.reportPath, 'utf8')).toContain(
      `**Preference share for the student: ${(share * 100).toFixed(1)}%`,
    );
  }
  await screenshot(page, 'pairwise-judged');
  expect(errors).toEqual([]);
});
