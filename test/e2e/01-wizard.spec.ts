/**
 * The main path, in the real UI against the real pipeline (tiny local model, smoke scale):
 * create a run in the wizard, run questions, teacher data, audit + split and training, watch
 * the loss chart on the Training page (a second tab) receive points while the wizard trains,
 * then evaluate. Later specs use the run this one leaves behind.
 */
import { expect, test, type Page } from '@playwright/test';
import { callApi, openPage, screenshot, trackConsole } from './support/app';
import type { CanvasLike } from './support/browser';

test.describe.configure({ mode: 'serial' });

/** Presses a wizard step's Run button and waits until that step shows as done. */
async function runWizardStep(page: Page, name: string, timeoutMs: number): Promise<void> {
  await page.getByTestId(`wizard-run-${name}`).click();
  const state = page.getByTestId(`wizard-state-${name}`);
  await expect(state).toHaveText(/^(done|failed)$/, { timeout: timeoutMs });
  if ((await state.textContent()) !== 'done') {
    // Fail at once with the app's own message instead of waiting out the timeout.
    const step = await page.getByTestId(`wizard-step-${name}`).innerText();
    throw new Error(`wizard step ${name} failed:\n${step}`);
  }
  await expect(page.getByTestId(`wizard-error-${name}`)).toHaveCount(0);
}

/**
 * How many pixels of the chart's canvas are drawn in the train-loss colour (#3b6fd8). Before any
 * point only the legend's swatch has it; each drawn segment of the curve adds more. (Counting every
 * inked pixel is not monotonic: the empty chart's default axes carry more tick labels than the
 * axes fitted to a short run.)
 */
async function trainLinePixels(page: Page): Promise<number> {
  return page
    .getByTestId('loss-chart')
    .locator('canvas')
    .evaluate((element) => {
      const canvas = element as unknown as CanvasLike;
      const ctx = canvas.getContext('2d');
      if (!ctx) return 0;
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      const near = (value: number | undefined, target: number): boolean =>
        Math.abs((value ?? -999) - target) <= 24;
      let count = 0;
      for (let i = 0; i + 3 < data.length; i += 4) {
        if (
          (data[i + 3] ?? 0) > 200 &&
          near(data[i], 0x3b) &&
          near(data[i + 1], 0x6f) &&
          near(data[i + 2], 0xd8)
        ) {
          count += 1;
        }
      }
      return count;
    });
}

test('walks the wizard from a persona to a trained, evaluated checkpoint', async ({
  page,
  context,
  request,
}) => {
  test.setTimeout(420_000);
  const errors = trackConsole(page);
  await openPage(page, 'wizard');
  await screenshot(page, 'wizard-empty');

  await page.getByLabel('Persona').selectOption('beethoven');
  await page.getByLabel('Scale').selectOption('smoke');
  await page.getByTestId('wizard-create-run').click();
  await expect(page.getByTestId('wizard-current-run')).toContainText('beethoven');
  // Estimates come from the real handler before anything runs.
  await expect(page.getByTestId('wizard-estimate-teacher-data')).toContainText('tokens');

  await runWizardStep(page, 'questions', 60_000);
  await runWizardStep(page, 'teacher-data', 180_000);
  await runWizardStep(page, 'audit', 180_000);
  await expect(page.getByTestId('wizard-result-audit')).toContainText('Kept');

  // The Training page in a second tab, open before training starts: its chart must fill
  // from the live training:metric events, without a reload.
  const trainingTab = await context.newPage();
  const trainingErrors = trackConsole(trainingTab);
  await openPage(trainingTab, 'training');
  await expect(trainingTab.getByTestId('loss-empty')).toBeVisible();
  const lineBefore = await trainLinePixels(trainingTab);

  await runWizardStep(page, 'train', 240_000);
  await expect(trainingTab.getByTestId('loss-empty')).toHaveCount(0, { timeout: 30_000 });
  await expect.poll(() => trainLinePixels(trainingTab), { timeout: 15_000 }).toBeGreaterThan(lineBefore);
  await expect(trainingTab.getByTestId('training-checkpoint').first()).toBeVisible({ timeout: 30_000 });
  await screenshot(trainingTab, 'training-live');

  const runs = await callApi(request, 'runs:list', undefined);
  const run = runs[0]!;
  const checkpoints = await callApi(request, 'checkpoints:list', { runId: run.id });
  expect(checkpoints.length).toBeGreaterThan(0);
  const metrics = await callApi(request, 'training:metrics', { runId: run.id, sinceStep: -1 });
  expect(metrics.filter((m) => m.kind === 'train').length).toBeGreaterThanOrEqual(2);
  expect(metrics.every((m) => Number.isFinite(m.loss))).toBe(true);

  await runWizardStep(page, 'evaluate', 300_000);
  await expect(page.getByTestId('wizard-result-evaluate')).toContainText('in character');
  await screenshot(page, 'wizard-done');
  expect((await callApi(request, 'runs:get', { id: run.id })).status).toBe('completed');

  await trainingTab.close();
  expect(errors).toEqual([]);
  expect(trainingErrors).toEqual([]);
});
