import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type {
  EvaluationItemRow,
  EvaluationSummary,
  RunSummary,
  SavingsSummary,
  TrainingConfig,
} from '../../../src-shared/contract';
import { DEFAULT_OBJECTIVE_REASON } from '../../../src-shared/contract';
import { personaLibrary } from '../../../src-main/personas';
import {
  collectReportInput,
  NOT_MEASURED,
  pickExamples,
  renderDeployment,
  renderResultsReport,
  writeEvaluationResults,
  writeReports,
} from '../../../src-main/reports';
import { openStore } from '../../../src-main/store';

const dir = mkdtempSync(join(tmpdir(), 'reports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RUN: RunSummary = {
  id: 'run-abc',
  personaId: 'beethoven',
  personaVersion: 1,
  scale: 'mini',
  status: 'completed',
  step: 'report',
  error: null,
  createdAt: '2026-11-21T10:00:00.000Z',
  updatedAt: '2026-11-21T11:00:00.000Z',
  dir: '/runs/run-abc',
};

const CONFIG: TrainingConfig = {
  baseModel: 'SmolLM2-135M-Instruct',
  objective: 'sft',
  kdWeight: 0,
  loraR: 16,
  loraAlpha: 32,
  loraDropout: 0.05,
  targetModules: ['q_proj', 'v_proj'],
  learningRate: 0.0002,
  warmupSteps: 5,
  schedule: 'linear',
  batchSize: 4,
  gradAccum: 2,
  maxSteps: 120,
  maxLength: 384,
  evalEvery: 20,
  saveEvery: 40,
  seed: 1,
};

const SUMMARY: EvaluationSummary = {
  runId: 'run-abc',
  checkpointId: 'ckpt-1',
  n: 40,
  inCharacterShare: { student: 0.873, teacher: 0.951, base: 0.112 },
  difflib: { student: 0.2345, base: 0.1012 },
  cosine: { student: 0.6789, base: 0.3456 },
  keywordPresence: { student: 0.625, teacher: 0.775, base: 0.05 },
  valLoss: 1.9876,
  perplexity: 7.3,
  capability: { student: 0.75, teacher: 0.8, base: 0.7 },
  safety: { student: 0.9, teacher: 1, base: 0.6 },
  elo: null,
  distillation: null,
  intervals: null,
  gate: {
    passed: true,
    score: '+0.76 (student 0.87 vs base 0.11, margin 0.05)',
    student: 0.873,
    base: 0.112,
    reasons: [],
  },
};

const ITEMS: EvaluationItemRow[] = ['biographical', 'biographical', 'composition', 'philosophy'].map(
  (category, i) => ({
    questionId: i + 1,
    category,
    question: `Question ${i + 1} about ${category}?`,
    answers: {
      student: `Student answer ${i + 1}. Ja!`,
      teacher: `Teacher answer ${i + 1}.`,
      base: `Base answer ${i + 1}.`,
    },
    inCharacter: { student: 1, teacher: 1, base: 0 },
    similarityToTeacher: { student: { difflib: 0.3, cosine: 0.7 }, base: { difflib: 0.1, cosine: 0.2 } },
  }),
);

const SAVINGS: SavingsSummary = {
  promptTokensTeacher: 712,
  promptTokensStudent: 24,
  tokenReduction: 0.9663,
  ttftMsTeacher: 601,
  ttftMsStudent: 71,
  latencyMsTeacher: 3100,
  latencyMsStudent: 1200,
  latencyRatio: 2.583,
  costPerMillionTeacher: 1234.5,
  costPerMillionStudent: 98.7,
  paybackQueries: 4321.2,
};

describe('RESULTS_REPORT.md', () => {
  it('takes every number from the inputs', () => {
    const md = renderResultsReport({
      run: RUN,
      persona: {
        id: 'beethoven',
        name: 'Ludwig van Beethoven',
        version: 1,
        wordCount: 572,
        promptTokens: 701,
      },
      teacher: { provider: 'local', model: 'SmolLM2-135M-Instruct' },
      questions: { total: 220, heldout: 20, byCategory: { biographical: 25, composition: 24 } },
      audit: {
        total: 200,
        kept: 180,
        flagged: { too_short: 15, duplicate: 5 },
        length: { mean: 61.25, median: 58, std: 12.5, min: 4, max: 190 },
        keywordPresence: 0.8123,
        exactDuplicates: 5,
        nearDuplicates: 0,
        categories: { biographical: 20 },
      },
      split: { train: 162, val: 18 },
      training: {
        config: CONFIG,
        steps: 120,
        firstTrainLoss: 3.4567,
        finalTrainLoss: 1.2345,
        finalValLoss: 1.5432,
        wallSeconds: 600,
      },
      evaluation: { summary: SUMMARY, items: ITEMS },
      savings: SAVINGS,
      generatedAt: '2026-11-21T12:00:00.000Z',
    });
    for (const s of [
      '572 words, 701 tokens',
      '87.3%',
      '95.1%',
      '11.2%',
      '62.5%',
      '0.234',
      '0.679',
      '1.9876',
      '7.30',
      '**PASSED**',
      '+0.76',
      '| Prompt tokens per query | 712 | 24 |',
      '96.6%',
      '601 ms',
      '2.58x',
      '$1,235',
      '$98.70',
      '4,322 queries',
      '1.2345',
      '3.4567',
      '162 train / 18 validation',
      '81.2%',
      'too_short | 15',
      '61.3 / 58 / 12.5 / 4 / 190',
    ]) {
      expect(md, s).toContain(s);
    }
    // Three before/after examples from three different categories.
    expect(md).toContain('### 1. Question 1 about biographical?');
    expect(md).toContain('### 2. Question 3 about composition?');
    expect(md).toContain('### 3. Question 4 about philosophy?');
    expect(md).toContain('> Base answer 1.');
    expect(md).toContain('> Student answer 1. Ja!');
    expect(md).toContain('Not measured in this run: Elo / pairwise preference, manual review.');
    // Which objective ran, and why kd is the default (issue #9).
    expect(md).toContain('| Objective | sft — SFT on the teacher’s answers |');
    expect(md).toContain('Objective: sft, chosen for this run (the default is kd');
    expect(md).toContain(`Why kd is the default: ${DEFAULT_OBJECTIVE_REASON}`);
    const kd = renderResultsReport({
      run: RUN,
      generatedAt: 'GEN',
      training: {
        config: { ...CONFIG, objective: 'kd' },
        steps: 1,
        finalTrainLoss: null,
        finalValLoss: null,
      },
    });
    expect(kd).toContain('Objective: kd, the default.');
    // Each loss named for what it is (issue 18 #15): a kd run's losses are kd losses, its
    // validation NLL a row of its own, and the evaluation's NLL says how it differs.
    const named = renderResultsReport({
      run: RUN,
      generatedAt: 'GEN',
      training: {
        config: { ...CONFIG, objective: 'kd' },
        steps: 80,
        finalTrainLoss: 0.036,
        finalValLoss: 0.0862,
        finalValNll: 1.485,
      },
      evaluation: { summary: SUMMARY, items: ITEMS },
    });
    expect(named).toContain('| Final train kd loss | 0.0360 |');
    expect(named).toContain('| Final validation kd loss | 0.0862 |');
    expect(named).toContain('| Final validation NLL | 1.4850 |');
    expect(named).toContain('Validation evaluation NLL: 1.9876');
    expect(named).not.toMatch(/Final (train|validation) loss/);
  });

  it('says where imported data came from, what was taken and why sft ran (issue 18 #11)', () => {
    const sha = 'c0ffee'.repeat(10) + 'abcd';
    const md = renderResultsReport({
      run: RUN,
      generatedAt: 'GEN',
      teacher: { provider: 'local', model: 'SmolLM2-135M-Instruct' },
      questions: { total: 12, heldout: 2, byCategory: { imported: 12 } },
      generation: { examples: 12 },
      imported: {
        path: '/home/me/chats.json',
        sha256: sha,
        layout: 'ShareGPT (conversations)',
        use: 'teacher',
        pairs: 30,
        taken: 12,
        heldOut: 2,
        skipped: 1,
      },
      training: { config: CONFIG, steps: 10, finalTrainLoss: 1, finalValLoss: 1 },
    });
    expect(md).toContain('`/home/me/chats.json` (ShareGPT (conversations), sha256 `' + sha + '`)');
    expect(md).toContain('the run took 12 of its 30 question -> answer pairs, 2 of them held out');
    expect(md).toContain('Questions: 12 imported');
    expect(md).toContain('| Teacher | none: the answers were imported from `/home/me/chats.json` |');
    expect(md).toContain("Objective: sft, because the teacher's answers were imported");
    for (const wrong of ['with the system prompt', 'Questions: 12 generated', 'chosen for this run'])
      expect(md).not.toContain(wrong);
  });

  it('says "not measured" for every missing section and invents no number', () => {
    const md = renderResultsReport({ run: RUN, generatedAt: 'GEN' });
    for (const h of [
      '## Training',
      '## Evaluation',
      '## Savings',
      '## Before and after',
      '## Manual review',
    ]) {
      const section = md.split(h)[1]!.split('\n## ')[0]!;
      expect(section, h).toContain(NOT_MEASURED);
    }
    const stripped = md.replaceAll(RUN.createdAt, '').replaceAll('beethoven v1', '');
    expect(stripped.match(/\d/g)).toBeNull();
  });

  it('picks examples from distinct categories first', () => {
    expect(pickExamples(ITEMS).map((i) => i.questionId)).toEqual([1, 3, 4]);
    expect(pickExamples(ITEMS.slice(0, 2)).map((i) => i.questionId)).toEqual([1, 2]);
  });
});

describe('DEPLOYMENT.md and evaluation_results.json', () => {
  it('explains loading with transformers+peft, serving and rollback', () => {
    const md = renderDeployment({
      personaName: 'Ludwig van Beethoven',
      checkpointId: 'ckpt-1',
      adapterDir: '/exports/beethoven',
      baseModel: {
        source: 'gguf',
        name: 'SmolLM2',
        format: 'gguf',
        folder: '/models',
        gguf_file: 'SmolLM2.gguf',
      },
      python: '/opt/engine/bin/python',
      port: 8123,
    });
    expect(md).toContain('PeftModel.from_pretrained(base, "/exports/beethoven")');
    expect(md).toContain('load = dict(gguf_file="SmolLM2.gguf")');
    expect(md).toContain(
      "'/opt/engine/bin/python' -m character_engine serve --model-source gguf --path '/models/SmolLM2.gguf' --adapter '/exports/beethoven' --port 8123",
    );
    expect(md).toContain('checkpoint rollback');
  });

  it('writes the report files and evaluation_results.json', () => {
    const out = join(dir, 'run');
    const r = writeReports(
      out,
      { run: RUN },
      {
        personaName: 'B',
        checkpointId: 'c',
        adapterDir: '/a',
        baseModel: { source: 'hub', name: 'org/model', format: 'hf', folder: 'org/model', gguf_file: null },
      },
    );
    expect(existsSync(r.resultsPath)).toBe(true);
    expect(readFileSync(r.deploymentPath!, 'utf8')).toContain('base_dir = "org/model"');
    const path = join(out, 'evaluation_results.json');
    writeEvaluationResults(path, { summary: SUMMARY, items: ITEMS, savings: SAVINGS });
    const doc = JSON.parse(readFileSync(path, 'utf8')) as {
      summary: EvaluationSummary;
      items: unknown[];
      savings: SavingsSummary;
    };
    expect(doc.summary.inCharacterShare.student).toBe(0.873);
    expect(doc.items).toHaveLength(4);
    expect(doc.savings.promptTokensTeacher).toBe(712);
  });
});

describe('collectReportInput', () => {
  it('gathers what the store knows about a run', () => {
    const store = openStore(':memory:');
    personaLibrary(store);
    const run = store.runs.create({ personaId: 'beethoven', personaVersion: 1, scale: 'smoke', dir });
    store.questions.insertMany(run.id, [
      { id: 1, category: 'biographical', text: 'Q1?', heldout: false, template: null },
      { id: 2, category: 'composition', text: 'Q2?', heldout: true, template: null },
    ]);
    const job = store.jobs.create({ runId: run.id, kind: 'sft', config: CONFIG, totalSteps: 10 });
    store.metrics.append(job.id, [
      { step: 1, kind: 'train', loss: 3.1 },
      { step: 10, kind: 'train', loss: 1.7 },
      { step: 10, kind: 'eval', loss: 2.2 },
    ]);
    store.jobs.update(job.id, {
      step: 10,
      status: 'completed',
      startedAt: '2026-11-21T10:00:00.000Z',
      finishedAt: '2026-11-21T10:02:00.000Z',
    });
    store.evaluations.save({ runId: run.id, checkpointId: null, summary: SUMMARY, items: ITEMS });
    store.savings.save(run.id, null, SAVINGS);
    const input = collectReportInput(store, run.id, { teacher: { provider: 'local', model: 'tiny' } });
    expect(input.persona).toMatchObject({ name: 'Ludwig van Beethoven', wordCount: 572 });
    expect(input.questions).toEqual({
      total: 2,
      heldout: 1,
      byCategory: { biographical: 1, composition: 1 },
    });
    expect(input.training).toMatchObject({
      steps: 10,
      firstTrainLoss: 3.1,
      finalTrainLoss: 1.7,
      finalValLoss: 2.2,
      wallSeconds: 120,
    });
    expect(input.evaluation?.items).toHaveLength(4);
    expect(input.savings?.tokenReduction).toBe(0.9663);
    expect(input.audit).toBeNull();
    expect(input.teacher?.model).toBe('tiny');
    const md = renderResultsReport(input);
    expect(md).toContain('Audit: not measured.');
    expect(md).toContain('1.7000');
  });
});
