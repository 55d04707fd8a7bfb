/**
 * Item 13: a runs folder that cannot be written says so, naming the folder, instead of
 * "ENOENT/EACCES … mkdir" on a path inside it. Permissions do not stop root, so as root the CLI
 * runs as the unprivileged user 65534 (nobody).
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './helpers';

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const work = mkdtempSync(join(tmpdir(), 'rel-ro-'));
afterAll(() => {
  chmodSync(join(work, 'home', 'runs'), 0o755);
  rmSync(work, { recursive: true, force: true });
});

describe('a read-only runs folder', () => {
  it('is reported as not writable, by name', async () => {
    const home = join(work, 'home');
    const runs = join(home, 'runs');
    mkdirSync(runs, { recursive: true });
    chmodSync(work, 0o755);
    if (asRoot) {
      chownSync(home, NOBODY, NOBODY);
      chownSync(runs, NOBODY, NOBODY);
    }
    chmodSync(runs, 0o555);
    const r = await cli(
      ['pipeline', 'beethoven', '--scale', 'smoke'],
      home,
      asRoot ? { uid: NOBODY, gid: NOBODY, timeoutMs: 60_000 } : { timeoutMs: 60_000 },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(runs);
    expect(r.stderr).toMatch(/not writable/);
    expect(r.stderr).not.toMatch(/ENOENT/);
  });
});
