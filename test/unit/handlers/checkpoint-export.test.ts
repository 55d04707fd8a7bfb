/**
 * checkpoints:export refuses a folder that is not empty (409, unless overwrite) and an outputDir
 * the system would reject (NUL, too long, /proc) with 400 before the engine starts; and no error
 * reply ever carries a traceback (the engine attaches one to unexpected failures; it is logged).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiChannel, ApiErrorPayload, ApiResponse } from '../../../src-shared/contract';
import { trainingDefaults } from '../../../src-main/core/scales';
import { MemorySettingsStore } from '../../../src-main/core/settings';
import { EngineClient } from '../../../src-main/engine/client';
import { EngineError } from '../../../src-main/engine/errors';
import { createHandlers } from '../../../src-main/handlers';
import { dispatch } from '../../../src-main/handlers/dispatch';
import { httpStatusFor, toErrorPayload } from '../../../src-main/handlers/errors';
import type { Handlers } from '../../../src-main/handlers/types';
import { PIPELINE_STEPS, type StepHandler, type StepTable } from '../../../src-main/pipeline/runner';
import { openStudio, type Studio } from '../../../src-main/studio/studio';

let dataDir: string;
let engine: EngineClient;
let studio: Studio;
let handlers: Handlers;
let checkpointId: string;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'checkpoint-export-'));
  engine = new EngineClient({ python: '/nonexistent/python-never-started' });
  const noop: StepHandler = async () => undefined;
  const steps = Object.fromEntries(PIPELINE_STEPS.map((s) => [s, noop])) as StepTable;
  studio = await openStudio({
    dataDir,
    settings: new MemorySettingsStore({ dataDir }),
    engine,
    steps: () => steps,
  });
  handlers = createHandlers({ ...studio, app: { version: 't', electron: false } });
  const run = studio.store.runs.create({
    personaId: 'beethoven',
    personaVersion: 1,
    scale: 'smoke',
    dir: dataDir,
  });
  const path = join(dataDir, 'ckpt', 'step-6');
  mkdirSync(path, { recursive: true });
  checkpointId = studio.store.checkpoints.insert({
    runId: run.id,
    jobId: null,
    step: 6,
    path,
    metrics: {},
    lineage: {
      personaId: 'beethoven',
      personaVersion: 1,
      dataHash: 'abc',
      config: trainingDefaults('smoke'),
    },
  }).id;
});

afterEach(async () => {
  await engine.close();
  await studio.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function errorOf(params: unknown): Promise<ApiErrorPayload> {
  const reply: ApiResponse<ApiChannel> = await dispatch(
    handlers,
    'checkpoints:export',
    params,
    () => undefined,
  );
  if (reply.ok) throw new Error('checkpoints:export unexpectedly succeeded');
  return reply.error;
}

describe('checkpoints:export folder checks', () => {
  it('refuses a non-empty folder with 409 unless overwrite, before starting the engine', async () => {
    const out = join(dataDir, 'mine');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'keep me');
    const err = await errorOf({ id: checkpointId, outputDir: out });
    expect(err).toMatchObject({ code: 'conflict', detail: { param: 'outputDir', dir: out } });
    expect(httpStatusFor(err)).toBe(409);
    expect(engine.running).toBe(false);
    // asked to overwrite, it goes on to the engine (which is missing here: a spawn error, not a conflict)
    const asked = await errorOf({ id: checkpointId, outputDir: out, overwrite: true });
    expect(asked.code).toBe('spawn_failed');
  });

  it('answers 400 naming outputDir for a path with NUL, one too long, or under /proc', async () => {
    for (const outputDir of ['/tmp/a\0b', `/tmp/${'x'.repeat(5000)}`, '/proc/self/export', 'relative/dir']) {
      const err = await errorOf({ id: checkpointId, outputDir });
      expect(err.code, outputDir.slice(0, 20)).toBe('invalid_params');
      expect(err.detail?.param).toBe('outputDir');
      expect(httpStatusFor(err)).toBe(400);
    }
    expect((await errorOf({ id: checkpointId, merged: 'yes' })).detail?.param).toBe('merged');
    expect(engine.running).toBe(false);
  });
});

describe('error replies', () => {
  it('never carry the engine traceback, and the log gets it', async () => {
    const traceback = 'Traceback (most recent call last):\n  File "export.py", line 1\nValueError: boom';
    const failing = new EngineError('export_adapter: ValueError: boom', 'internal', 'export_adapter', '7', {
      exception: 'ValueError',
      traceback,
    });
    const payload = toErrorPayload(failing);
    expect(payload).toMatchObject({ code: 'internal', message: 'export_adapter: ValueError: boom' });
    expect(JSON.stringify(payload)).not.toContain('Traceback');
    expect(payload.detail?.exception).toBe('ValueError');
    const logged: unknown[] = [];
    const broken = { ...handlers, 'checkpoints:export': async () => Promise.reject(failing) } as Handlers;
    const reply = await dispatch(broken, 'checkpoints:export', { id: 'x' }, (_channel, error) =>
      logged.push(error),
    );
    expect(reply.ok).toBe(false);
    expect(JSON.stringify(reply)).not.toContain('Traceback');
    expect(logged).toEqual([failing]);
  });
});
