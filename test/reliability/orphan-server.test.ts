/**
 * Issue 21, item 8: `character serve-model` ended by SIGTERM (`kill <pid>`) or SIGKILL leaves no
 * engine listening with parent 1, and a port in use is named as such (it was "engine exited
 * during serve: before it listened", hiding an AttributeError). The real CLI and engine serve a
 * tiny random model; every wait is a bounded loop on a condition.
 */
import type { ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTinyModel, cli, waitFor, type CliResult } from './helpers';

const work = mkdtempSync(join(tmpdir(), 'rel-orphan-'));
const model = join(work, 'tiny');
const env = { HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' };

beforeAll(() => buildTinyModel(model));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function dataFolder(name: string): string {
  const home = join(work, name);
  mkdirSync(home, { recursive: true });
  writeFileSync(
    join(home, 'settings.json'),
    JSON.stringify({ studentModel: { source: 'local', path: model } }),
  );
  return home;
}

/** The pids whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

const alive = (pid: number): boolean =>
  existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

/** Starts serve-model, waits until it listens, returns the CLI's pid, the engine's and the port. */
async function serve(
  home: string,
  signal: NodeJS.Signals,
): Promise<{ engine: number; port: number; result: CliResult }> {
  let stdout = '';
  let pid = 0;
  let child: ChildProcess | null = null;
  const done = cli(['serve-model', '--port', '0'], home, {
    env,
    timeoutMs: 240_000,
    onStart: (c) => {
      child = c;
      pid = c.pid ?? 0;
      c.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    },
  });
  const port = await waitFor(
    'serve-model to listen',
    () => {
      const m = /OpenAI-compatible server: http:\/\/127\.0\.0\.1:(\d+)\/v1/.exec(stdout);
      return m ? Number(m[1]) : undefined;
    },
    180_000,
  );
  const engine = childrenOf(pid).find((p) =>
    readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('character_engine'),
  );
  expect(engine, 'the engine is a child of the CLI').toBeDefined();
  (child as ChildProcess | null)?.kill(signal);
  return { engine: engine!, port, result: await done };
}

describe('serve-model ended by a signal', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`leaves no engine behind after ${signal}`, async () => {
      const { engine, result } = await serve(dataFolder(signal.toLowerCase()), signal);
      if (signal === 'SIGTERM') expect(result.code, result.stderr).toBe(0);
      // Bounded: the engine notices its parent is gone within a second; a loaded machine gets 60 s.
      await waitFor(`engine ${engine} to exit`, () => (alive(engine) ? undefined : true), 60_000, 100);
    });
  }

  it('names a port in use as such', async () => {
    const blocker: Server = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      const r = await cli(['serve-model', '--port', String(port)], dataFolder('in-use'), {
        env,
        timeoutMs: 240_000,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use`));
      expect(r.stderr).not.toMatch(/before it listened/);
    } finally {
      blocker.close();
    }
  });
});
