import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TrainingConfig } from '../../../src-shared/contract';
import { ConfigError } from '../../../src-main/core/errors';
import { jobDir, runPaths, topkFile } from '../../../src-main/core/paths';
import { readRunsCsv, writeRunsCsvRows, type RunsCsvRow } from '../../../src-main/doctor/runs-csv';
import { scaleConfig } from '../../../src-main/core/scales';
import { JsonFileSettingsStore, redactSettings, resolveDataDir } from '../../../src-main/core/settings';
import { formatModelSpec, parseModelSpec } from '../../../src-main/core/model-spec';
import { checkTrainingConfig, validateTrainingConfig } from '../../../src-main/core/training-config';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'cs-settings-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('settings', () => {
  it('resolves the data dir from CHARACTER_STUDIO_HOME, else ~/.character-studio', () => {
    expect(resolveDataDir({ CHARACTER_STUDIO_HOME: '/x/y' })).toBe('/x/y');
    expect(resolveDataDir({})).toMatch(/\.character-studio$/);
  });

  it('persists to settings.json and reads it back; redaction hides keys', () => {
    const dir = tmp();
    const s = new JsonFileSettingsStore(dir);
    s.set('openai', { baseUrl: 'http://127.0.0.1:9/v1', model: 'm', apiKey: 'sk-secret' });
    s.set('teacherModel', { source: 'local', path: '/models/a' });
    const again = new JsonFileSettingsStore(dir);
    expect(again.get('openai')?.apiKey).toBe('sk-secret');
    expect(again.get('teacherModel')).toEqual({ source: 'local', path: '/models/a' });
    expect(again.get('dataDir')).toBe(dir);
    expect(JSON.stringify(redactSettings(again.all()))).not.toContain('sk-secret');
  });

  it('parses and formats model specs, and rejects nonsense with a ConfigError', () => {
    expect(parseModelSpec('default')).toEqual({ source: 'default' });
    expect(parseModelSpec('local:/m')).toEqual({ source: 'local', path: '/m' });
    expect(formatModelSpec(parseModelSpec('gguf:/f.gguf'))).toBe('gguf:/f.gguf');
    expect(() => parseModelSpec('banana')).toThrow(ConfigError);
  });
});

describe('training config validation', () => {
  const good: TrainingConfig = scaleConfig('mini').training;

  it('accepts every shipped scale', () => {
    for (const s of ['smoke', 'mini', 'paper'] as const)
      expect(checkTrainingConfig(scaleConfig(s).training)).toEqual([]);
  });

  it('names each bad field', () => {
    const problems = checkTrainingConfig({
      ...good,
      learningRate: 0.5,
      loraR: 0,
      warmupSteps: 500,
      targetModules: [],
    });
    expect(problems.map((p) => p.field).sort()).toEqual([
      'learningRate',
      'loraR',
      'targetModules',
      'warmupSteps',
    ]);
    expect(() => validateTrainingConfig({ ...good, batchSize: 64 }, 10)).toThrow(
      /batch size 64 is larger than the 10/,
    );
  });
});

describe('run folder and runs.csv', () => {
  it('lays out the run folder', () => {
    const p = runPaths('/d', 'r1');
    expect(p.teacherData).toBe('/d/runs/r1/teacher_data.jsonl');
    expect(jobDir(p, 'job-1')).toBe('/d/runs/r1/jobs/job-1');
    expect(topkFile(p, 17)).toBe('/d/runs/r1/teacher_topk/q000017.safetensors');
    expect(p.resultsReport).toBe('/d/runs/r1/RESULTS_REPORT.md');
  });

  it('writes one line per run in runs.csv, with CSV quoting', () => {
    const dir = tmp();
    const row = (status: string, error = ''): RunsCsvRow =>
      ({
        run_id: 'r1',
        persona: 'beethoven',
        persona_version: 1,
        scale: 'smoke',
        status,
        teacher_model: `a,b "${error}"`,
      }) as unknown as RunsCsvRow;
    writeRunsCsvRows(dir, [{ ...row('failed', 'x'), run_id: 'r2' }, row('completed')]);
    const text = readFileSync(join(dir, 'runs.csv'), 'utf8');
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain('r1,beethoven,1,smoke,completed,"a,b """""');
    const parsed = readRunsCsv(dir);
    expect(parsed.map((r) => [r.run_id, r.status])).toEqual([
      ['r2', 'failed'],
      ['r1', 'completed'],
    ]);
    expect(parsed[1]?.teacher_model).toBe('a,b ""');
    expect(parsed[0]?.teacher_model).toBe('a,b "x"');
  });
});
