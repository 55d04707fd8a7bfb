/**
 * Model specs as people and the CLI write them ("default", "local:/dir", "gguf:/file.gguf",
 * "hub:org/name") and as the engine protocol carries them (ModelSpec).
 */
import { basename, resolve } from 'node:path';
import type { ModelSpec } from '../../src-shared/engine-protocol';
import { ConfigError } from './errors';

/** Parse a CLI/model string: "default", "local:/dir", "gguf:/file.gguf", "hub:org/name". */
export function parseModelSpec(text: string): ModelSpec {
  if (text === 'default') return { source: 'default' };
  const colon = text.indexOf(':');
  const kind = colon > 0 ? text.slice(0, colon) : '';
  const rest = colon > 0 ? text.slice(colon + 1) : '';
  if (kind === 'local' && rest) return { source: 'local', path: resolve(rest) };
  if (kind === 'gguf' && rest) return { source: 'gguf', path: resolve(rest) };
  if (kind === 'hub' && rest) return { source: 'hub', repo_id: rest };
  throw new ConfigError(
    `cannot read model "${text}": use default, local:/path/to/folder, gguf:/path/to/file.gguf or hub:org/name`,
    'model',
  );
}

/** The inverse of parseModelSpec: what TrainingConfig.baseModel and the CLI store. */
export function formatModelSpec(spec: ModelSpec): string {
  switch (spec.source) {
    case 'default':
      return 'default';
    case 'local':
      return `local:${spec.path}`;
    case 'gguf':
      return `gguf:${spec.path}`;
    case 'hub':
      return `hub:${spec.repo_id}`;
  }
}

/** A model for people: formatModelSpec, except that the default model is named. */
export function describeModel(spec: ModelSpec): string {
  return spec.source === 'default' ? 'SmolLM2-135M-Instruct (embedded)' : formatModelSpec(spec);
}

/** A short display name: the embedded model's name, a folder or file name, or the hub repo. */
export function modelSpecName(spec: ModelSpec): string {
  switch (spec.source) {
    case 'default':
      return 'SmolLM2-135M-Instruct';
    case 'local':
    case 'gguf':
      return basename(spec.path.replace(/[\\/]+$/, ''));
    case 'hub':
      return spec.revision ? `${spec.repo_id}@${spec.revision}` : spec.repo_id;
  }
}
