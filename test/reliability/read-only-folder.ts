/**
 * A folder the CLI cannot write, made wherever the suite runs. Permissions do not stop root, and
 * running the CLI as `nobody` fails where nobody cannot read the checkout (a clone inside a 0700
 * folder: "Cannot find module …/bin/character.mjs"). So, in order:
 *   - not root: chmod 0555 (permissions apply);
 *   - root that can mount: a read-only bind mount of the folder over itself (EROFS for root too);
 *   - root that cannot mount: the CLI as nobody, when nobody can run it from this checkout;
 *   - else: no way to make it, and the reason, for the test to skip with.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers';

const NOBODY = 65534;

export interface ReadOnlyFolder {
  how: 'chmod' | 'read-only mount' | 'as nobody';
  /** Options for cli(): the user to run as, when the folder is read-only only for that user. */
  user: { uid: number; gid: number } | null;
  /** Makes the folder writable again (unmounts, restores the mode). */
  undo(): void;
}

function canMount(dir: string): boolean {
  try {
    execFileSync('mount', ['--bind', dir, dir], { stdio: 'ignore' });
    execFileSync('mount', ['-o', 'remount,ro,bind', dir], { stdio: 'ignore' });
    return true;
  } catch {
    try {
      execFileSync('umount', [dir], { stdio: 'ignore' });
    } catch {
      /* nothing was mounted */
    }
    return false;
  }
}

/** Whether nobody can start the CLI from this checkout (its folders may be 0700). */
function nobodyCanRun(): boolean {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'character.mjs'), '--help'], {
    uid: NOBODY,
    gid: NOBODY,
    cwd: '/',
    env: { PATH: process.env.PATH ?? '', HOME: '/tmp' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return r.status === 0;
}

/** Makes `dir` (and what is in it) read-only for the CLI, or says why it cannot. */
export function makeReadOnly(dir: string, ownedBy: string[] = []): ReadOnlyFolder | { skip: string } {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555);
    return { how: 'chmod', user: null, undo: () => chmodSync(dir, 0o755) };
  }
  if (canMount(dir))
    return {
      how: 'read-only mount',
      user: null,
      undo: () => execFileSync('umount', [dir], { stdio: 'ignore' }),
    };
  if (nobodyCanRun()) {
    for (const p of [...ownedBy, dir]) chownSync(p, NOBODY, NOBODY);
    for (const name of readdirSync(dir)) chownSync(join(dir, name), NOBODY, NOBODY);
    chmodSync(dir, 0o555);
    return { how: 'as nobody', user: { uid: NOBODY, gid: NOBODY }, undo: () => chmodSync(dir, 0o755) };
  }
  return {
    skip: `root without mount rights, and nobody (65534) cannot read this checkout (${ROOT}): no way to make a folder read-only for the CLI`,
  };
}
