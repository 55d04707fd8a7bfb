/**
 * Review and checkpoint channels over a real in-memory store: the evaluation rows and
 * checkpoint folders are written here as the pipeline would leave them (no engine needed).
 */
import { openStudio, type Studio } from '../../../src-main/studio/studio';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  REVIEW_DIMENSIONS,
  type ApiChannel,
  type ApiErrorPayload,
  type ApiResponse,
  type EvaluationSummary,
  type ModelRole,
} from '../../../src-shared/contract';
import { EngineClient } from '../../../src-main/engine/client';
import { runPaths } from '../../../src-main/core/paths';
import { createHandlers } from '../../../src-main/handlers';
import { renderResultsReport } from '../../../src-main/reports';
import { dispatch } from '../../../src-main/handlers/dispatch';
import { httpStatusFor } from '../../../src-main/handlers/errors';
import type { Handlers } from '../../../src-main/handlers/types';

import { PIPELINE_STEPS, type StepHandler, type StepTable } from '../../../src-main/pipeline/runner';
import { trainingDefaults } from '../../../src-main/core/scales';
import { MemorySettingsStore } from '../../../src-main/core/settings';
import type { EvaluationItemRecord, Store } from '../../../src-main/store';

let dataDir: string;
let store: Store;
let engine: EngineClient;
let handlers: Handlers;

let studio: Studio;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'handlers-rc-'));
  engine = new EngineClient({ python: '/nonexistent/python-never-started' });
  const noop: StepHandler = async () => undefined;
  const steps = Object.fromEntries(PIPELINE_STEPS.map((s) => [s, noop])) as StepTable;
  studio = await openStudio({
    dataDir,
    settings: new MemorySettingsStore({ dataDir }),
    engine,
    steps: () => steps,
  });
  store = studio.store;
  handlers = createHandlers({ ...studio, app: { version: 't', electron: false } });
});

afterEach(async () => {
  await engine.close();
  await studio.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function errorOf(channel: string, params: unknown): Promise<ApiErrorPayload> {
  const reply: ApiResponse<ApiChannel> = await dispatch(handlers, channel, params, () => undefined);
  if (reply.ok) throw new Error(`${channel} unexpectedly succeeded`);
  return reply.error;
}

const roles: ModelRole[] = ['student', 'teacher', 'base'];
const perRole = (v: number): Record<ModelRole, number> => ({ student: v, teacher: v, base: v });

function summary(runId: string): EvaluationSummary {
  return {
    runId,
    checkpointId: null,
    n: 60,
    inCharacterShare: perRole(0.5),
    difflib: { student: 0.3, base: 0.1 },
    cosine: { student: 0.6, base: 0.2 },
    keywordPresence: perRole(0.4),
    valLoss: 2.1,
    perplexity: 8.2,
    capability: perRole(0.5),
    safety: perRole(1),
    elo: null,
    distillation: null,
    intervals: null,
    gate: { passed: false, score: '0/3', student: 0.5, base: 0.5, reasons: [] },
  };
}

function evaluatedRun(): string {
  const run = store.runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'smoke', dir: dataDir });
  const categories = [
    'biographical',
    'composition',
    'philosophy',
    'historical_context',
    'struggles_triumphs',
  ];
  const items: EvaluationItemRecord[] = Array.from({ length: 60 }, (_, i) => ({
    questionId: i + 1,
    category: categories[i % 5]!,
    question: `Question ${i + 1}?`,
    answers: { student: `student ${i}`, teacher: `teacher ${i}`, base: `base ${i}` },
    inCharacter: perRole(0.5),
    similarityToTeacher: { student: { difflib: 0.3, cosine: 0.6 }, base: { difflib: 0.1, cosine: 0.2 } },
  }));
  store.evaluations.save({ runId: run.id, checkpointId: null, summary: summary(run.id), items });
  return run.id;
}

describe('review channels', () => {
  it('creates a blind sheet of 50, rates and notes items, summarises and exports', async () => {
    const runId = evaluatedRun();
    const sheet = await handlers['review:create']({ runId, blind: true });
    expect(sheet.items).toHaveLength(50);
    expect(sheet.items.every((i) => i.source === null)).toBe(true);
    for (const item of sheet.items) {
      for (const d of REVIEW_DIMENSIONS)
        await handlers['review:rate']({ itemId: item.id, dimension: d, value: 5 });
    }
    const noted = await handlers['review:note']({ itemId: sheet.items[0]!.id, note: 'convincing' });
    expect(noted.note).toBe('convincing');
    const blindSummary = await handlers['review:summary']({ sheetId: sheet.id, unblind: false });
    // All rated 5, yet blind: the summary must not claim "below the target" (issue 18, defect 8).
    expect(blindSummary).toMatchObject({ rated: 50, total: 50, meetsTarget: null });
    const open = await handlers['review:summary']({ sheetId: sheet.id, unblind: true });
    expect(Object.keys(open.passRateBySource).length).toBeGreaterThan(0);
    const reloaded = await handlers['review:get']({ sheetId: sheet.id });
    expect(reloaded.items.some((i) => roles.includes(i.source as ModelRole))).toBe(true);
    const files = await handlers['review:export']({ sheetId: sheet.id });
    expect(files.csvPath.endsWith('manual_review.csv')).toBe(true);
    // Exporting it again replaces its own files; a second sheet gets its own, never the first's.
    expect((await handlers['review:export']({ sheetId: sheet.id })).csvPath).toBe(files.csvPath);
    const second = await handlers['review:create']({ runId, blind: false });
    const other = await handlers['review:export']({ sheetId: second.id });
    expect(other.csvPath).not.toBe(files.csvPath);
    expect(other.csvPath.endsWith(`manual_review_${second.id}.csv`)).toBe(true);
    expect(readFileSync(files.txtPath, 'utf8')).toContain(`Sheet ${sheet.id} `);
  });

  it("finds a run's sheets again from the database, newest first, with their rated counts", async () => {
    const runId = evaluatedRun();
    expect(await handlers['review:list']({ runId })).toEqual([]);
    const first = await handlers['review:create']({ runId, blind: true });
    for (const d of REVIEW_DIMENSIONS)
      await handlers['review:rate']({ itemId: first.items[0]!.id, dimension: d, value: 4 });
    await handlers['review:rate']({ itemId: first.items[1]!.id, dimension: REVIEW_DIMENSIONS[0], value: 3 });
    const second = await handlers['review:create']({ runId, blind: false });
    const listed = await handlers['review:list']({ runId });
    expect(listed.map((s) => [s.id, s.blind, s.rated, s.total])).toEqual([
      [second.id, false, 0, 50],
      [first.id, true, 1, 50], // the half-rated item does not count
    ]);
    expect(await errorOf('review:list', { runId: 'nope' })).toMatchObject({ code: 'not_found' });
  });

  it('refuses a rating outside 1-5 and a sheet without an evaluation', async () => {
    const runId = evaluatedRun();
    const sheet = await handlers['review:create']({ runId, blind: false });
    const bad = await errorOf('review:rate', {
      itemId: sheet.items[0]!.id,
      dimension: 'characterConsistency',
      value: 6,
    });
    expect(bad.code).toBe('invalid_params');
    const bare = store.runs.create({
      personaId: 'beethoven',
      personaVersion: 1,
      scale: 'smoke',
      dir: dataDir,
    });
    const none = await errorOf('review:create', { runId: bare.id, blind: true });
    expect(none.code).toBe('step_order');
    expect(httpStatusFor(none)).toBe(409);
  });
});

describe('pairwise channels', () => {
  it('creates a blind A/B sheet, saves and clears choices, lists, summarises and exports into the report', async () => {
    const runId = evaluatedRun();
    const sheet = await handlers['pairwise:create']({ runId });
    expect(sheet.items).toHaveLength(50);
    expect(sheet.blind).toBe(true);
    expect(sheet.items.every((i) => i.sourceA === null && i.sourceB === null)).toBe(true);
    const small = await handlers['pairwise:create']({ runId, pairs: 3 });
    expect(small.items).toHaveLength(3);
    for (const [k, item] of sheet.items.entries())
      await handlers['pairwise:choose']({ itemId: item.id, choice: (['a', 'b', 'tie'] as const)[k % 3]! });
    const cleared = await handlers['pairwise:choose']({ itemId: sheet.items[49]!.id, choice: null });
    expect(cleared.choice).toBeNull();
    expect((await handlers['pairwise:list']({ runId })).map((s) => [s.id, s.judged, s.total])).toEqual([
      [small.id, 0, 3],
      [sheet.id, 49, 50],
    ]);
    const blind = await handlers['pairwise:summary']({ sheetId: sheet.id, unblind: false });
    expect(blind).toMatchObject({ judged: 49, total: 50, student: null, picks: { a: 17, b: 16, tie: 16 } });

    const first = await handlers['pairwise:export']({ sheetId: sheet.id });
    expect(first.csvPath).toBe(join(runPaths(dataDir, runId).dir, 'pairwise_review.csv'));
    expect(first.reportPath).toBeNull(); // no RESULTS_REPORT.md yet: nothing to update

    const reportPath = runPaths(dataDir, runId).resultsReport;
    mkdirSync(dirname(reportPath), { recursive: true });
    writeFileSync(reportPath, renderResultsReport({ run: store.runs.require(runId), generatedAt: 'GEN' }));
    const open = await handlers['pairwise:summary']({ sheetId: sheet.id, unblind: true });
    expect(open.student).toMatchObject({ against: 'teacher' });
    expect(open.student!.wins + open.student!.losses + open.student!.ties).toBe(49);
    const exported = await handlers['pairwise:export']({ sheetId: sheet.id });
    expect(exported.reportPath).toBe(reportPath);
    const md = readFileSync(reportPath, 'utf8');
    expect(md).toContain(`**Preference share for the student: ${(open.student!.share * 100).toFixed(1)}% [`);
    // The rating sheet's export updates the same section (it was "not measured" when the report was written).
    const rating = await handlers['review:create']({ runId, blind: false });
    for (const d of REVIEW_DIMENSIONS)
      await handlers['review:rate']({ itemId: rating.items[0]!.id, dimension: d, value: 4 });
    await handlers['review:export']({ sheetId: rating.id });
    const after = readFileSync(reportPath, 'utf8');
    expect(after).toContain('1 of 50 responses rated.');
    expect(after).toContain('**Preference share for the student:');
  });

  it('refuses a bad choice, a bad size, an unknown sheet and a run without an evaluation', async () => {
    const runId = evaluatedRun();
    const sheet = await handlers['pairwise:create']({ runId, pairs: 2 });
    expect(await errorOf('pairwise:choose', { itemId: sheet.items[0]!.id, choice: 'left' })).toMatchObject({
      code: 'invalid_params',
    });
    expect(await errorOf('pairwise:create', { runId, pairs: 0 })).toMatchObject({ code: 'invalid_params' });
    expect(await errorOf('pairwise:get', { sheetId: 'pairwise-nope' })).toMatchObject({ code: 'not_found' });
    expect(await errorOf('pairwise:choose', { itemId: 987_654, choice: 'a' })).toMatchObject({
      code: 'not_found',
    });
    const bare = store.runs.create({
      personaId: 'beethoven',
      personaVersion: 1,
      scale: 'smoke',
      dir: dataDir,
    });
    expect(await errorOf('pairwise:create', { runId: bare.id })).toMatchObject({ code: 'step_order' });
  });
});

describe('checkpoint channels', () => {
  function checkpoint(runId: string, step: number): string {
    const path = join(dataDir, 'ckpt', `step-${step}`);
    mkdirSync(path, { recursive: true });
    const lineage = {
      personaId: 'beethoven',
      personaVersion: 1,
      dataHash: 'abc',
      config: trainingDefaults('smoke'),
    };
    return store.checkpoints.insert({
      runId,
      jobId: null,
      step,
      path,
      metrics: { trainLoss: 1 / step },
      lineage,
    }).id;
  }

  it('lists, promotes and rolls back through the registry', async () => {
    const runId = evaluatedRun();
    const a = checkpoint(runId, 6);
    const b = checkpoint(runId, 12);
    const listed = await handlers['checkpoints:list']({ runId });
    expect(listed.map((c) => c.id).sort()).toEqual([a, b].sort());
    expect(Object.keys(listed[0]!)).not.toContain('jobId');
    expect(await handlers['checkpoints:rollback'](undefined)).toBeNull();
    expect((await handlers['checkpoints:promote']({ id: a })).state).toBe('promoted');
    expect((await handlers['checkpoints:promote']({ id: b })).state).toBe('promoted');
    const back = await handlers['checkpoints:rollback'](undefined);
    expect(back?.id).toBe(a);
    const states = Object.fromEntries((await handlers['checkpoints:list']({})).map((c) => [c.id, c.state]));
    expect(states).toEqual({ [a]: 'promoted', [b]: 'archived' });
    expect(await errorOf('checkpoints:promote', { id: 'nope' })).toMatchObject({ code: 'not_found' });
  });

  it('marks the one current and the one active checkpoint among the promoted ones', async () => {
    const runId = evaluatedRun();
    const [a, b, c] = [checkpoint(runId, 6), checkpoint(runId, 12), checkpoint(runId, 18)];
    for (const id of [c, a, b]) await handlers['checkpoints:promote']({ id });
    // Promote the oldest-created one last: "current" follows the promotion, not the creation date.
    const promoted = await handlers['checkpoints:promote']({ id: a });
    expect(promoted).toMatchObject({ id: a, current: true, active: true });
    const flags = async (): Promise<Record<string, string>> =>
      Object.fromEntries(
        (await handlers['checkpoints:list']({})).map((r) => [
          r.id,
          `${r.state}${r.current ? ' current' : ''}${r.active ? ' active' : ''}`,
        ]),
      );
    expect(await flags()).toEqual({ [a]: 'promoted current active', [b]: 'promoted', [c]: 'promoted' });
    // `checkpoint use` moves what chat and serve-model use, not what is current.
    studio.registry.use(c);
    expect(await flags()).toEqual({ [a]: 'promoted current', [b]: 'promoted', [c]: 'promoted active' });
    expect(studio.registry.resolve(null)).toBe(c);
    const back = await handlers['checkpoints:rollback'](undefined);
    expect(back).toMatchObject({ id: b, current: true, active: true });
    expect(await flags()).toEqual({ [a]: 'archived', [b]: 'promoted current active', [c]: 'promoted' });
  });

  it('refuses a relative export folder before calling the engine', async () => {
    const runId = evaluatedRun();
    const id = checkpoint(runId, 6);
    expect(await errorOf('checkpoints:export', { id, outputDir: 'relative/dir' })).toMatchObject({
      code: 'invalid_params',
    });
    expect(engine.running).toBe(false);
  });
});
