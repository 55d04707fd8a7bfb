/**
 * The demoer's first question (issue 18, defect 5): the Chat page loads its model when it opens,
 * so "Who are you?" typed after the page has been open 10 s does not wait for loading. The time
 * from Enter to the first token on screen is MEASURED and written to
 * test/artifacts/chat-ttft.json, not asserted (speed targets live in benchmarks). With the E2E's
 * tiny random model it shows the mechanics, not the embedded model's speed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { openPage, trackConsole } from './support/app';

/** The scenario the issue names: the page has been open this long before the question (ms). */
const PAGE_OPEN_MS = 10_000;

interface PageClock {
  performance: { now(): number };
  document: { querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }> };
}

test('the chat model is warm when the page has been open 10 s: time to first token is recorded', async ({
  page,
}) => {
  // Generous: on the shared two-core machine the engine's start and load took 65 s.
  test.setTimeout(300_000);
  const errors = trackConsole(page);
  const opened = Date.now();
  await openPage(page, 'chat');
  const warmup = page.getByTestId('chat-warmup');
  await expect(warmup).toBeVisible();
  await expect(warmup).toHaveAttribute('data-status', 'ready', { timeout: 200_000 });
  const warmupText = (await warmup.textContent()) ?? '';
  // Not a synchronisation sleep: the scenario measured is "the page has been open 10 s" (the
  // warm-up above is waited for by its condition; this only tops the idle time up to 10 s).
  const idle = PAGE_OPEN_MS - (Date.now() - opened);
  if (idle > 0) await page.waitForTimeout(idle);

  const input = page.getByTestId('chat-input');
  await input.fill('Who are you?');
  const enterAt = await page.evaluate(() => (globalThis as unknown as PageClock).performance.now());
  await input.press('Enter');
  const first = await page.waitForFunction(
    () => {
      const g = globalThis as unknown as PageClock;
      const texts = g.document.querySelectorAll(
        '[data-testid="chat-message"][data-speaker="student"] [data-testid="chat-message-text"]',
      );
      const last = texts[texts.length - 1];
      const shown = (last?.textContent ?? '').replace('▍', '').trim();
      return shown === '' ? null : g.performance.now();
    },
    undefined,
    { polling: 'raf', timeout: 120_000 },
  );
  const firstTokenAt = (await first.jsonValue()) as number;
  await expect(page.getByTestId('chat-message-meta').last()).toBeVisible({ timeout: 120_000 });
  const meta = (await page.getByTestId('chat-message-meta').last().textContent()) ?? '';

  const record = {
    measuredAt: new Date().toISOString(),
    question: 'Who are you?',
    pageOpenMs: Date.now() - opened,
    warmup: warmupText,
    ttftMsFromEnter: Math.round(firstTokenAt - enterAt),
    replyMeta: meta,
    model: process.env.STUDIO_TINY_MODEL ?? 'the E2E settings’ student model',
    note: 'E2E tiny random model on this machine: the mechanics (warm before the question), not the embedded model’s speed',
  };
  const dir = join('test', 'artifacts');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'chat-ttft.json'), `${JSON.stringify(record, null, 2)}\n`);
  expect(record.ttftMsFromEnter).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});
