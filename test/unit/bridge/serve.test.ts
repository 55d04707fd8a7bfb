/**
 * serveApp end to end without a browser: the real studio (SQLite file, persona library, runner)
 * behind the bridge on a temporary data folder. The engine is never started: no call here
 * needs a model.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rendererIsStale, serveApp } from '../../../src-main/bridge/serve';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'serve-app-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('serveApp', () => {
  it('serves the page and the real handlers over one token, and closes the studio', async () => {
    const staticDir = join(dir, 'renderer');
    mkdirSync(staticDir);
    writeFileSync(join(staticDir, 'index.html'), '<html><head></head><body>studio</body></html>');
    const app = await serveApp({ dataDir: join(dir, 'data'), staticDir, build: false });
    try {
      const page = await fetch(app.url);
      expect(await page.text()).toContain(`content="${app.bridge.token}"`);
      const reply = await fetch(`${app.bridge.origin}/api/runs:create`, {
        method: 'POST',
        headers: { 'x-studio-token': app.bridge.token },
        body: JSON.stringify({ personaId: 'beethoven', scale: 'smoke' }),
      });
      const body = (await reply.json()) as { ok: boolean; result: { id: string; dir: string } };
      expect(body.ok).toBe(true);
      expect(body.result.dir.startsWith(join(dir, 'data'))).toBe(true);
      expect(app.studio.store.runs.get(body.result.id)?.personaId).toBe('beethoven');
      expect(app.studio.engine.running).toBe(false);
    } finally {
      await app.close();
    }
    expect(app.studio.store.db.open).toBe(false);
    await expect(fetch(app.url)).rejects.toThrow();
  });

  it('refuses to start without a built renderer', async () => {
    await expect(
      serveApp({ dataDir: join(dir, 'data'), staticDir: join(dir, 'none'), build: false }),
    ).rejects.toThrow(/npm run build/);
  });

  it('calls a renderer stale when a source is newer than the built page', () => {
    const root = join(dir, 'repo');
    mkdirSync(join(root, 'src-renderer'), { recursive: true });
    mkdirSync(join(root, 'out', 'renderer'), { recursive: true });
    expect(rendererIsStale(root)).toBe(true);
    writeFileSync(join(root, 'src-renderer', 'App.tsx'), 'x');
    writeFileSync(join(root, 'out', 'renderer', 'index.html'), 'x');
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'src-renderer', 'App.tsx'), past, past);
    expect(rendererIsStale(root)).toBe(false);
    writeFileSync(join(root, 'src-renderer', 'App.tsx'), 'y');
    utimesSync(join(root, 'out', 'renderer', 'index.html'), past, past);
    expect(rendererIsStale(root)).toBe(true);
  });
});
