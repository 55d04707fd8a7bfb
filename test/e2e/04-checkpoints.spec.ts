/** Promoting the trained checkpoint and exporting it as a PEFT adapter folder, from the UI. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { callApi, openPage, screenshot, trackConsole } from './support/app';

test('promotes a checkpoint and exports its adapter', async ({ page, request }) => {
  test.setTimeout(180_000);
  const errors = trackConsole(page);
  await openPage(page, 'checkpoints');
  const rows = page.getByTestId('checkpoint-row');
  await expect(rows.first()).toBeVisible();
  const row = rows.first();
  const id = (await row.locator('code').first().textContent())?.trim() ?? '';
  expect(id).not.toBe('');

  await row.getByTestId('checkpoint-promote').click();
  await expect(row.locator('.badge')).toHaveText('promoted');
  const stored = await callApi(request, 'checkpoints:list', {});
  expect(stored.find((c) => c.id === id)?.state).toBe('promoted');

  await row.getByTestId('checkpoint-export').click();
  const exported = page.getByTestId('checkpoints-exported');
  await expect(exported).toContainText('adapter_config.json', { timeout: 120_000 });
  const dir = ((await exported.textContent()) ?? '').split(':')[0]!.trim();
  expect(existsSync(join(dir, 'adapter_config.json'))).toBe(true);
  expect(existsSync(join(dir, 'README.md'))).toBe(true);
  await screenshot(page, 'checkpoints-exported');
  expect(errors).toEqual([]);
});
