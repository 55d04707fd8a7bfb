import { describe, expect, it } from 'vitest';
import { formatError } from '../../../src-main/cli/format-error';
import { splitGlobal } from '../../../src-main/cli/args';
import { main } from '../../../src-main/cli/main';
import { formatBar, formatDuration, ProgressDisplay } from '../../../src-main/cli/progress';
import { ConfigError, NotFoundError } from '../../../src-main/core/errors';

function sink(isTTY = false): {
  text: () => string;
  write: (s: string) => boolean;
  isTTY: boolean;
  columns: number;
} {
  let buf = '';
  return {
    isTTY,
    columns: 100,
    write: (s: string) => {
      buf += s;
      return true;
    },
    text: () => buf,
  };
}

describe('cli argument handling', () => {
  it('pulls global flags out wherever they appear', () => {
    expect(splitGlobal(['pipeline', '--json', 'beethoven', '-v', '--scale', 'smoke'])).toEqual({
      json: true,
      verbose: true,
      help: false,
      rest: ['pipeline', 'beethoven', '--scale', 'smoke'],
    });
  });

  it('prints usage for --help and exits 0; unknown commands exit 1 with one line', async () => {
    const out = sink();
    const err = sink();
    expect(await main(['--help'], { stdout: out, stderr: err })).toBe(0);
    expect(out.text()).toContain('pipeline <persona> --scale smoke|mini|paper');
    expect(await main(['frobnicate'], { stdout: out, stderr: err })).toBe(1);
    expect(err.text().trim().split('\n')).toEqual([
      'character: unknown command "frobnicate" (see character --help)',
    ]);
  });

  it('turns typed errors into one line naming the cause', () => {
    expect(formatError(new ConfigError('learning rate must be in (0, 0.01]', 'learningRate'))).toBe(
      'character: ConfigError: learning rate must be in (0, 0.01]',
    );
    expect(formatError(new NotFoundError('run', 'r1'))).toBe('character: NotFoundError: run not found: r1');
    const multi = new Error('engine exited\nstderr:\nTraceback');
    expect(formatError(multi)).toBe('character: error: engine exited');
  });

  it('rejects an unknown option of a command with exit code 1', async () => {
    const out = sink();
    const err = sink();
    const code = await main(['constitution', 'validate', '--bogus'], { stdout: out, stderr: err });
    expect(code).toBe(1);
    expect(err.text()).toMatch(/CliUsageError: constitution: Unknown option '--bogus'/);
  });

  it('names a missing constitution file instead of printing ENOENT', async () => {
    const out = sink();
    const err = sink();
    const code = await main(['constitution', 'validate', '/no/such/persona.yaml'], {
      stdout: out,
      stderr: err,
    });
    expect(code).toBe(1);
    expect(err.text().trim()).toBe(
      'character: PersonaError: Cannot read constitution /no/such/persona.yaml: no such file',
    );
  });
});

describe('progress display', () => {
  it('draws bars and durations', () => {
    expect(formatBar(0.5, 10)).toBe('[#####-----]');
    expect(formatBar(2, 4)).toBe('[####]');
    expect(formatDuration(75)).toBe('1m15s');
    expect(formatDuration(3 * 3600 + 120)).toBe('3h02m');
  });

  it('throttles plain lines when not a terminal, but always prints the end', () => {
    let t = 0;
    const out = sink(false);
    const p = new ProgressDisplay(out, () => t, 1000);
    const ev = (done: number): void =>
      p.update({ runId: 'r', step: 'generate', done, total: 10, fraction: done / 10 });
    ev(1);
    t = 100;
    ev(2); // throttled
    t = 1200;
    ev(3);
    t = 1300;
    ev(10);
    const lines = out.text().trim().split('\n');
    expect(lines.map((l) => /(\d+\/\d+)/.exec(l)?.[1])).toEqual(['1/10', '3/10', '10/10']);
  });

  it('redraws one line on a terminal', () => {
    const out = sink(true);
    const p = new ProgressDisplay(out, () => 0);
    p.update({ runId: 'r', step: 'train', done: 5, total: 10, fraction: 0.5, message: 'loss 2.1' });
    p.finish();
    expect(out.text().startsWith('\r\u001b[2Ktrain ')).toBe(true);
    expect(out.text()).toMatch(/\[#{12}-{12}\] +50% 5\/10 .*loss 2\.1\n$/);
  });
});

describe('training_config.yaml overrides', () => {
  it('reads the fields datasets/ writes back into a TrainingConfig', async () => {
    const { trainingConfigYaml } = await import('../../../src-main/datasets');
    const { scaleConfig } = await import('../../../src-main/core/scales');
    const { trainingOverridesFromYaml } = await import('../../../src-main/cli/commands/pipeline');
    const c = { ...scaleConfig('smoke').training, loraR: 4, learningRate: 3e-4, maxSteps: 7, maxLength: 96 };
    const text = trainingConfigYaml(c, { trainFile: 't', valFile: 'v' });
    const o = trainingOverridesFromYaml(text);
    expect(o).toMatchObject({
      loraR: 4,
      learningRate: 3e-4,
      maxSteps: 7,
      maxLength: 96,
      batchSize: c.batchSize,
    });
  });
});
