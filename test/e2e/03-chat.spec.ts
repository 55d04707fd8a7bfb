/** Chatting with the trained checkpoint: tokens stream in before the reply is finished. */
import { expect, test } from '@playwright/test';
import { openPage, screenshot, trackConsole } from './support/app';
import type { BrowserGlobals } from './support/browser';

test('chats with the student and sees the tokens stream', async ({ page }) => {
  test.setTimeout(180_000);
  const errors = trackConsole(page);
  await openPage(page, 'chat');
  // Count chat:token events as the page receives them from the bridge's event stream.
  await page.evaluate(() => {
    const w = globalThis as unknown as BrowserGlobals;
    w.__tokens = 0;
    const token = w.document.querySelector('meta[name="studio-token"]')?.getAttribute('content') ?? '';
    const source = new w.EventSource(`${w.location.origin}/api/events?token=${encodeURIComponent(token)}`);
    source.addEventListener('chat:token', () => {
      w.__tokens = (w.__tokens ?? 0) + 1;
    });
  });
  await page.getByTestId('chat-new').click();
  const input = page.getByTestId('chat-input');
  await input.fill('What do you think of Vienna?');
  await input.press('Enter');
  const messages = page.getByTestId('chat-message');
  await expect(messages).toHaveCount(2, { timeout: 120_000 });
  await expect(page.getByTestId('chat-message-meta').last()).toBeVisible({ timeout: 120_000 });
  const streamed = await page.evaluate(() => (globalThis as unknown as BrowserGlobals).__tokens ?? 0);
  expect(streamed).toBeGreaterThan(0);
  await expect(page.getByTestId('chat-message-text').last()).not.toBeEmpty();
  await screenshot(page, 'chat');
  expect(errors).toEqual([]);
});

test('chats side by side with the teacher, who sees the persona prompt', async ({ page }) => {
  test.setTimeout(180_000);
  const errors = trackConsole(page);
  await openPage(page, 'chat');
  await page.getByLabel('Side by side with the teacher (+ prompt)').check();
  await page.getByTestId('chat-new').click();
  const input = page.getByTestId('chat-input');
  await input.fill('Tell me about your Ninth Symphony.');
  await input.press('Enter');
  const student = page.locator('[data-testid="chat-message"][data-speaker="student"]');
  const teacher = page.locator('[data-testid="chat-message"][data-speaker="teacher"]');
  await expect(teacher.getByTestId('chat-message-meta')).toBeVisible({ timeout: 150_000 });
  await expect(student.getByTestId('chat-message-meta')).toBeVisible();
  // The teacher's prompt carries the whole constitution; the student's only the question.
  const promptTokens = async (message: typeof student): Promise<number> => {
    const meta = (await message.getByTestId('chat-message-meta').textContent()) ?? '';
    // "1,761 prompt + 24 completion tokens ...": digits before "prompt", whatever the grouping.
    return Number((/^(.*?) prompt/.exec(meta)?.[1] ?? '').replace(/\D/g, ''));
  };
  expect(await promptTokens(teacher)).toBeGreaterThan((await promptTokens(student)) + 100);
  await screenshot(page, 'chat-side-by-side');
  expect(errors).toEqual([]);
});
