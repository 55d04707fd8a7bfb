/**
 * The layers of src-main are enforced by lint (layers.config.js -> eslint.config.js): an import
 * from a lower layer to a higher one, or between neighbours of one layer, fails `npm run lint`
 * with the layer's reason. Linted through ESLint's Node API with a file path inside the layer
 * folder, so nothing is written into the tree.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Layer {
  folders: string[];
  reason: string;
}

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: root });
});

/** The no-restricted-imports messages for `code` linted as if it were the file `path`. */
async function restricted(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer lint', () => {
  it('fails an import from the run engine up into runs/, with the reason', async () => {
    const messages = await restricted(
      'src-main/pipeline/wrong-import.ts',
      "import { createRun } from '../runs/create-run';\nexport const f = createRun;\n",
    );
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('src-main/pipeline may not import src-main/runs (a layer above');
    expect(messages[0]).toContain('pipeline/ is the run engine');
  });

  it('fails core importing the store, and the store importing the engine (a neighbour)', async () => {
    const core = await restricted(
      'src-main/core/wrong-import.ts',
      "import type { Store } from '../store';\nexport type S = Store;\n",
    );
    expect(core[0]).toContain('core is the bottom layer');
    const store = await restricted(
      'src-main/store/repos/wrong-import.ts',
      "import type { EngineClient } from '../../engine/client';\nexport type E = EngineClient;\n",
    );
    expect(store[0]).toContain('its neighbour in the same layer');
  });

  it('fails a pipeline step importing a recipe', async () => {
    const messages = await restricted(
      'src-main/pipeline/steps/wrong-import.ts',
      "import { characterTrainStep } from '../recipes/character';\nexport const f = characterTrainStep;\n",
    );
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('a step is shared by the recipes');
  });

  it('fails the renderer importing the main process', async () => {
    const messages = await restricted(
      'src-renderer/src/wrong-import.ts',
      "import { openStudio } from '../../src-main/studio/studio';\nexport const f = openStudio;\n",
    );
    expect(messages[0]).toContain('window.studio only');
  });

  it('passes imports that go downward', async () => {
    const messages = await restricted(
      'src-main/runs/right-import.ts',
      [
        "import type { PipelineRunner } from '../pipeline/runner';",
        "import { ConfigError } from '../core/errors';",
        "import type { RunRecord } from '../store';",
        'export type T = [PipelineRunner, ConfigError, RunRecord];',
        '',
      ].join('\n'),
    );
    expect(messages).toEqual([]);
  });

  it('places every src-main folder in exactly one layer', async () => {
    const { LAYERS } = (await import(pathToFileURL(join(root, 'layers.config.js')).href)) as {
      LAYERS: Layer[];
    };
    const placed = LAYERS.flatMap((l) => l.folders).sort();
    const folders = readdirSync(join(root, 'src-main'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(placed).toEqual(folders);
  });
});
