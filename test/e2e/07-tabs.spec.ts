/**
 * Eight tabs on one studio (issue 18, defect 4). Chromium allows six HTTP/1.1 connections per
 * origin and each tab used to hold an EventSource: the sixth tab hung on "Loading…". Now the
 * tabs share one stream (a Web Lock elects the tab that holds it, a BroadcastChannel relays its
 * events), so eight tabs all load, exactly one /api/events request is open, every tab receives
 * the events, and a tab's requests still answer.
 */
import { expect, test, type Page } from '@playwright/test';
import { callApi, studioUrl, trackConsole } from './support/app';

const TABS = 8;

test('eight tabs load, share one event stream and all receive events', async ({ page, request }) => {
  test.setTimeout(180_000);
  const context = page.context();
  const streams = new Set<string>();
  let opened = 0;
  context.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/events') {
      opened += 1;
      streams.add(`${opened}`);
      const id = `${opened}`;
      const done = (): void => void streams.delete(id);
      r.response()
        .then((response) => response?.finished())
        .then(done, done);
    }
  });
  const pages: Page[] = [page];
  for (let i = 1; i < TABS; i += 1) pages.push(await context.newPage());
  const errors = pages.map((p) => trackConsole(p));
  for (const p of pages) await p.goto(`${studioUrl()}#/wizard`);
  // Every tab answers its first request (the app-info line), the eighth included.
  for (const [i, p] of pages.entries()) {
    await expect(p.getByTestId('app-info'), `tab ${i + 1}`).toContainText('browser');
  }
  // One stream for all eight (polled: the leader opens it once it holds the lock).
  await expect.poll(() => streams.size, { timeout: 15_000 }).toBe(1);

  // An event raised by the main side reaches every tab: a new run's status after its first step.
  const run = await callApi(request, 'runs:create', { personaId: 'beethoven', scale: 'smoke' });
  await callApi(request, 'runs:step', { runId: run.id, step: 'questions' });
  for (const [i, p] of pages.entries()) {
    await expect(
      p.getByTestId('run-picker').locator(`option[value="${run.id}"]`),
      `tab ${i + 1}`,
    ).toHaveCount(1);
  }

  // The last tab's requests still answer while the others hold their pages open.
  const last = pages[TABS - 1]!;
  const listed = last.waitForResponse((r) => r.url().endsWith('/api/checkpoints:list'), { timeout: 15_000 });
  await last.goto(`${studioUrl()}#/checkpoints`);
  expect((await listed).ok()).toBe(true);
  await expect(last.getByTestId('page-checkpoints')).toBeVisible();

  // Closing the leader's tab hands the stream to another: still exactly one, and events flow.
  await pages[0]!.close();
  await expect.poll(() => streams.size, { timeout: 15_000 }).toBe(1);
  const second = await callApi(request, 'runs:create', { personaId: 'beethoven', scale: 'smoke' });
  await callApi(request, 'runs:step', { runId: second.id, step: 'questions' });
  await expect(pages[3]!.getByTestId('run-picker').locator(`option[value="${second.id}"]`)).toHaveCount(1);
  for (const e of errors) expect(e).toEqual([]);
});
