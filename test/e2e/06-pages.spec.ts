/** Every page: renders without console errors, labels every form control, gets a screenshot. */
import { expect, test } from '@playwright/test';
import { openPage, screenshot, trackConsole } from './support/app';
import type { BrowserGlobals } from './support/browser';

const PAGES = [
  'wizard',
  'personas',
  'data',
  'training',
  'evaluation',
  'review',
  'chat',
  'checkpoints',
] as const;

for (const route of PAGES) {
  test(`the ${route} page has labelled controls and no console errors`, async ({ page }) => {
    const errors = trackConsole(page);
    await openPage(page, route);
    // Let the page's first requests settle (data loads, event stream).
    await page.waitForLoadState('networkidle');
    const unlabelled = await page.evaluate(() => {
      const { document } = globalThis as unknown as BrowserGlobals;
      const controls = Array.from(document.querySelectorAll('input, select, textarea')).filter(
        (el) => !(el.tagName === 'INPUT' && el.type === 'hidden'),
      );
      return controls
        .filter((el) => {
          const labelled = (el.labels?.length ?? 0) > 0;
          const aria = (el.getAttribute('aria-label') ?? '').trim() !== '';
          const labelledBy = (el.getAttribute('aria-labelledby') ?? '')
            .split(/\s+/)
            .some((id) => id !== '' && (document.getElementById(id)?.textContent ?? '').trim() !== '');
          return !labelled && !aria && !labelledBy;
        })
        .map((el) => el.outerHTML.slice(0, 120));
    });
    expect(unlabelled).toEqual([]);
    await screenshot(page, `page-${route}`);
    expect(errors).toEqual([]);
  });
}
