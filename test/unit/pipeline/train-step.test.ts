import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readValExamples } from '../../../src-main/evaluation/evaluate';
import { scaleConfig } from '../../../src-main/core/scales';
import { countJsonlRows } from '../../../src-main/datasets';
import { trainSftParams } from '../../../src-main/pipeline/engine-training';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('train step helpers', () => {
  it('maps a TrainingConfig onto the engine wire format', () => {
    const c = scaleConfig('mini').training;
    const p = trainSftParams(c, {
      model: { source: 'default' },
      trainPath: '/r/train.jsonl',
      valPath: null,
      outputDir: '/r',
      resumeFrom: '/r/checkpoints/step-000020',
    });
    expect(p).toMatchObject({
      model: { source: 'default' },
      train_path: '/r/train.jsonl',
      output_dir: '/r',
      lora: { r: c.loraR, alpha: c.loraAlpha, dropout: c.loraDropout, target_modules: c.targetModules },
      learning_rate: c.learningRate,
      batch_size: c.batchSize,
      max_steps: c.maxSteps,
      max_length: c.maxLength,
      resume_from: '/r/checkpoints/step-000020',
    });
    expect('val_path' in p).toBe(false);
    expect('tensorboard' in p).toBe(false); // off unless the settings ask for it
    const board = trainSftParams(c, {
      model: { source: 'default' },
      trainPath: 't',
      valPath: null,
      outputDir: 'o',
      tensorboard: true,
    });
    expect(board.tensorboard).toBe(true);
  });

  it('counts JSONL rows and reads val examples (user -> assistant)', () => {
    const d = mkdtempSync(join(tmpdir(), 'cs-train-'));
    dirs.push(d);
    const f = join(d, 'val.jsonl');
    writeFileSync(
      f,
      [
        JSON.stringify({
          messages: [
            { role: 'user', content: 'Q1' },
            { role: 'assistant', content: 'A1' },
          ],
        }),
        '',
        JSON.stringify({
          messages: [
            { role: 'user', content: 'Q2' },
            { role: 'assistant', content: 'A2' },
          ],
        }),
        '',
      ].join('\n'),
    );
    expect(countJsonlRows(f)).toBe(2);
    expect(countJsonlRows(join(d, 'missing.jsonl'))).toBe(0);
    expect(readValExamples(f)).toEqual([
      { prompt: 'Q1', response: 'A1' },
      { prompt: 'Q2', response: 'A2' },
    ]);
  });
});
