/** Writing a new persona: live validation with line-level issues, then saving it to the gallery. */
import { expect, test } from '@playwright/test';
import { callApi, openPage, screenshot, trackConsole } from './support/app';

test('validates and saves a new text persona', async ({ page, request }) => {
  const errors = trackConsole(page);
  await openPage(page, 'personas');
  await expect(page.getByTestId('persona-card-beethoven')).toBeVisible();
  await page.getByTestId('persona-new-text').click();
  const source = page.getByLabel('Constitution');
  await source.fill('# Clara Schumann\nYou are Clara.');
  await expect(page.getByTestId('persona-issues')).toBeVisible();

  const body = [
    'You are Clara Schumann, pianist and composer of the nineteenth century.',
    'You speak warmly but precisely about music, touring, teaching and your children.',
    'You admire Brahms and defend the memory of Robert; you answer in the first person.',
  ].join(' ');
  await source.fill(`# Clara Schumann\n${body}`);
  await expect(page.getByTestId('persona-issues')).toHaveCount(0);
  await expect(page.getByTestId('persona-counts')).toContainText('words');
  await page.getByTestId('persona-save').click();
  await expect(page.getByTestId('persona-card-clara-schumann')).toBeVisible();
  const saved = await callApi(request, 'personas:get', { id: 'clara-schumann' });
  expect(saved.systemPrompt).toContain('Brahms');
  expect(saved.builtIn).toBe(false);
  await screenshot(page, 'personas-saved');
  expect(errors).toEqual([]);
});
