/**
 * Helpers shared by the specs: the server's URL (from global set-up), a typed call to the real
 * API for checks the UI cannot show, and a guard that fails a test on any console error.
 */
import { expect, type APIRequestContext, type Page } from '@playwright/test';
import type { ApiChannel, ApiParams, ApiResponse, ApiResult } from '../../../src-shared/contract';

export function studioUrl(): string {
  const url = process.env.STUDIO_URL;
  if (!url)
    throw new Error('STUDIO_URL is not set: run the specs through playwright.config.ts (global set-up)');
  return url;
}

function origin(): string {
  return new URL(studioUrl()).origin;
}

function token(): string {
  return new URL(studioUrl()).searchParams.get('token') ?? '';
}

/** The app at a hash route, e.g. openPage(page, 'training'). */
export async function openPage(page: Page, route = 'wizard'): Promise<void> {
  await page.goto(`${studioUrl()}#/${route}`);
  await expect(page.getByTestId(`page-${route}`)).toBeVisible();
}

/** Calls the real API directly (for assertions about state the UI does not show). */
export async function callApi<C extends ApiChannel>(
  request: APIRequestContext,
  channel: C,
  params: ApiParams<C>,
): Promise<ApiResult<C>> {
  const response = await request.post(`${origin()}/api/${channel}`, {
    headers: { 'x-studio-token': token(), 'content-type': 'application/json' },
    data: JSON.stringify(params ?? null),
  });
  const reply = (await response.json()) as ApiResponse<C>;
  if (!reply.ok) throw new Error(`${channel} failed: ${reply.error.code}: ${reply.error.message}`);
  return reply.result;
}

/** Collects console errors and uncaught page errors; assert with expectNoConsoleErrors. */
export function trackConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  return errors;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `test/artifacts/screenshots/${name}.png`, fullPage: true });
}
