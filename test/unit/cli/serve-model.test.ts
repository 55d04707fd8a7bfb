import { describe, expect, it } from 'vitest';
import { servedModel } from '../../../src-main/cli/commands/serve-model';
import { isLoopbackHost, modelServerArgs } from '../../../src-main/engine/model-server';
import type { ModelSpec } from '../../../src-shared/engine-protocol';

type Services = Parameters<typeof servedModel>[0];

function services(
  runs: Record<string, ModelSpec>,
  checkpoints: Record<string, { runId: string; base?: string }>,
): Services {
  return {
    settings: { get: () => ({ source: 'default' }) },
    store: {
      runs: { get: (id: string) => (runs[id] ? { config: { studentModel: runs[id] } } : null) },
      checkpoints: {
        require: (id: string) => {
          const c = checkpoints[id];
          if (!c) throw new Error(`no checkpoint ${id}`);
          return {
            id,
            runId: c.runId,
            path: `/data/runs/${c.runId}/checkpoints/${id}`,
            lineage: { personaId: 'beethoven', config: { baseModel: c.base } },
          };
        },
      },
    },
  } as unknown as Services;
}

describe('character serve-model', () => {
  it("serves the checkpoint's run's student model with the adapter, named persona:checkpoint", () => {
    const s = services({ r1: { source: 'local', path: '/models/student' } }, { c1: { runId: 'r1' } });
    expect(servedModel(s, 'c1')).toEqual({
      model: { source: 'local', path: '/models/student' },
      adapter: '/data/runs/r1/checkpoints/c1',
      modelId: 'beethoven:c1',
      checkpointId: 'c1',
    });
  });

  it("falls back to the lineage's base model, and to the base student without a checkpoint", () => {
    const s = services({}, { c2: { runId: 'gone', base: 'gguf:/models/x.gguf' } });
    expect(servedModel(s, 'c2').model).toEqual({ source: 'gguf', path: '/models/x.gguf' });
    expect(servedModel(s, null)).toEqual({
      model: { source: 'default' },
      adapter: null,
      modelId: 'SmolLM2-135M-Instruct',
      checkpointId: null,
    });
  });

  it('builds the engine serve arguments; the API key never goes on the command line', () => {
    const args = modelServerArgs({
      model: { source: 'hub', repo_id: 'org/m', revision: 'v2' },
      adapter: '/a',
      modelId: 'beethoven:c1',
      host: '0.0.0.0',
      port: 0,
      apiKey: 'sekrit',
    });
    expect(args).toEqual([
      '-m',
      'character_engine',
      'serve',
      '--model-source',
      'hub',
      '--path',
      'org/m',
      '--revision',
      'v2',
      '--adapter',
      '/a',
      '--model-id',
      'beethoven:c1',
      '--host',
      '0.0.0.0',
      '--port',
      '0',
    ]);
    expect(args.join(' ')).not.toContain('sekrit');
    expect(['127.0.0.1', 'localhost', '::1', '127.0.0.2'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '192.168.1.2', 'example.com'].some(isLoopbackHost)).toBe(false);
  });
});
