/**
 * Item 13 (issue 11): a runs folder that cannot be written says so, naming the folder, instead
 * of "ENOENT/EACCES … mkdir" on a path inside it. Issue 21: a whole data folder that cannot be
 * written is named read-only (not "damaged", which sent users to `character doctor`), with what
 * still works. The read-only folder is made wherever the suite runs (read-only-folder.ts): a
 * clone in a private 0700 folder run as root used to fail here, nobody unable to read the CLI.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cli } from './helpers';
import { makeReadOnly, type ReadOnlyFolder } from './read-only-folder';

const work = mkdtempSync(join(tmpdir(), 'rel-ro-'));
let made: ReadOnlyFolder | null = null;
afterEach(() => {
  made?.undo();
  made = null;
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a read-only runs folder', () => {
  it('is reported as not writable, by name', async (t) => {
    const home = join(work, 'home');
    const runs = join(home, 'runs');
    mkdirSync(runs, { recursive: true });
    const ro = makeReadOnly(runs, [home]);
    if ('skip' in ro) return t.skip(ro.skip);
    made = ro;
    const r = await cli(['pipeline', 'beethoven', '--scale', 'smoke'], home, {
      ...(ro.user ?? {}),
      timeoutMs: 120_000,
    });
    expect(r.code, `${ro.how}: ${r.stderr}`).toBe(1);
    expect(r.stderr).toContain(runs);
    expect(r.stderr).toMatch(/not writable|read-only/);
    expect(r.stderr).not.toMatch(/ENOENT/);
  });
});

describe('a read-only data folder', () => {
  it('is named read-only, not damaged, with what still works', async (t) => {
    const home = join(work, 'data');
    mkdirSync(home, { recursive: true });
    const first = await cli(['runs'], home, { timeoutMs: 120_000 }); // creates the database
    expect(first.code, first.stderr).toBe(0);
    const ro = makeReadOnly(home);
    if ('skip' in ro) return t.skip(ro.skip);
    made = ro;
    const r = await cli(['runs'], home, { ...(ro.user ?? {}), timeoutMs: 120_000 });
    expect(r.code, `${ro.how}: ${r.stderr}`).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`The data folder ${home} is read-only`));
    expect(r.stderr).toMatch(/is not damaged/);
    expect(r.stderr).toMatch(/constitution validate/);
    expect(r.stderr).not.toMatch(/is damaged|unable to open database file/);
  });
});
