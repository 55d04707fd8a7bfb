/**
 * The data folder's description (README, "The data folder") covers what the files hold: train.jsonl's
 * `teacher_topk` key (issue 18 #16: a relative path nobody had documented) and every runs.csv
 * column, so the losses it names (issue 18 #15) are explained where a reader looks.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RUNS_CSV_COLUMNS } from '../../../src-main/doctor/runs-csv';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('**The data folder**'), readme.indexOf('## What runs where'));

describe('README: the data folder', () => {
  it("documents train.jsonl's teacher_topk key and what it points to", () => {
    expect(section).toMatch(
      /carries `teacher_topk`, the path of its answer's\s+top-k file relative to the run folder/,
    );
  });

  it('documents every runs.csv column', () => {
    for (const column of RUNS_CSV_COLUMNS) expect(section, column).toContain(`\`${column}\``);
  });
});
