/**
 * Promoting the trained checkpoint and exporting it from the UI: the PEFT adapter folder with its
 * card, GGUF LoRA and Modelfile; exporting again asks before overwriting; "Merged model too"
 * adds the merged model in files transformers 4.x reads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { callApi, openPage, screenshot, trackConsole } from './support/app';

test('promotes a checkpoint and exports its adapter', async ({ page, request }) => {
  test.setTimeout(180_000);
  const errors = trackConsole(page);
  await openPage(page, 'checkpoints');
  const rows = page.getByTestId('checkpoint-row');
  await expect(rows.first()).toBeVisible();
  // The wizard's run passed its gate, so its final checkpoint is promoted already: promote another.
  const promotable = rows
    .filter({ has: page.locator('[data-testid="checkpoint-promote"]:not([disabled])') })
    .first();
  await expect(promotable).toBeVisible();
  const id = (await promotable.locator('code').first().textContent())?.trim() ?? '';
  expect(id).not.toBe('');
  // Pinned by its id: once promoted, the row no longer matches the filter above.
  const row = rows.filter({ hasText: id });

  await row.getByTestId('checkpoint-promote').click();
  await expect(row.getByTestId('checkpoint-state')).toHaveText('promoted');
  // Chat and serve-model answer with the promoted checkpoint: the row says it is the current one.
  await expect(row.getByTestId('checkpoint-current')).toBeVisible();
  const stored = await callApi(request, 'checkpoints:list', {});
  expect(stored.find((c) => c.id === id)?.state).toBe('promoted');

  await row.getByTestId('checkpoint-export').click();
  const exported = page.getByTestId('checkpoints-exported');
  await expect(exported).toContainText('adapter_config.json', { timeout: 120_000 });
  const dir = ((await exported.textContent()) ?? '').split(':')[0]!.trim();
  expect(existsSync(join(dir, 'adapter_config.json'))).toBe(true);
  expect(existsSync(join(dir, 'README.md'))).toBe(true);
  expect(existsSync(join(dir, 'gguf', 'adapter.gguf'))).toBe(true);
  expect(readFileSync(join(dir, 'Modelfile'), 'utf8')).toContain('ADAPTER ./gguf/adapter.gguf');
  await screenshot(page, 'checkpoints-exported');

  // the same folder again, now with the merged model: the page asks before overwriting
  await page.getByTestId('checkpoints-merged').check();
  await row.getByTestId('checkpoint-export').click();
  await expect(page.getByTestId('checkpoints-overwrite-confirm')).toContainText(dir);
  await page.getByTestId('checkpoints-overwrite').click();
  await expect(exported).toContainText('merged', { timeout: 120_000 });
  const config = JSON.parse(readFileSync(join(dir, 'merged', 'config.json'), 'utf8')) as {
    rope_theta?: number;
    rope_parameters?: { rope_theta?: number };
  };
  expect(config.rope_theta).toBe(config.rope_parameters?.rope_theta);
  expect(existsSync(join(dir, 'gguf', 'model.gguf'))).toBe(true);
  // The one error the browser logs is the bridge's 409 for the folder that is not empty, which
  // is what made the page ask before overwriting.
  expect(errors).toEqual([
    'console: Failed to load resource: the server responded with a status of 409 (Conflict)',
  ]);
});
