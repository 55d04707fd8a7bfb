/**
 * Item 6: runs.csv is written from the database each time. A line with a stray quote (a hand
 * edit, a crash mid-write of an older build) used to swallow the lines after it: a completed
 * run's row vanished into one quoted cell at the next rewrite, for good. Re-read here with the
 * CSV reader.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PIPELINE_STEPS } from '../../src-shared/contract';
import { runsCsvPath } from '../../src-main/core/paths';
import type { StepTable } from '../../src-main/pipeline/runner';
import { readRunsCsv } from '../../src-main/doctor/runs-csv';
import { openStudio } from '../../src-main/studio/studio';

const home = mkdtempSync(join(tmpdir(), 'rel-csv-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Every step does nothing: a run completes at once, through the real runner and studio. */
const noSteps = (): StepTable =>
  Object.fromEntries(PIPELINE_STEPS.map((s) => [s, async () => undefined])) as unknown as StepTable;

const DONE = '20261201-040000-beethoven-smoke-done';
const NEXT = '20261201-041500-beethoven-smoke-next';

describe('runs.csv', () => {
  it("keeps a completed run's row after a line with an unclosed quote", async () => {
    const studio = await openStudio({ dataDir: home, steps: noSteps });
    try {
      for (const id of [DONE, NEXT]) {
        studio.store.runs.create({
          id,
          personaId: 'beethoven',
          personaVersion: 1,
          scale: 'smoke',
          dir: join(home, 'runs', id),
        });
      }
      await studio.runner.run(DONE);
      // A damaged line (a quote opened mid-field, never closed) before the completed run's row.
      writeFileSync(
        runsCsvPath(home),
        `run_id,persona,persona_version,scale,status\nold-run,beet"hoven,1,smoke,failed\n${DONE},beethoven,1,smoke,completed\n`,
      );
      expect((await studio.runner.run(NEXT)).status).toBe('completed');

      const rows = readRunsCsv(home);
      const status = Object.fromEntries(rows.map((r) => [r.run_id, r.status]));
      expect(status, JSON.stringify(rows)).toMatchObject({ [DONE]: 'completed', [NEXT]: 'completed' });
      // Every line is one run: nothing is swallowed into a quoted cell.
      expect(rows.some((r) => Object.values(r).some((v) => v.includes('\n')))).toBe(false);
    } finally {
      await studio.close();
    }
  });
});
