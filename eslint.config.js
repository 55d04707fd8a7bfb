import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import { INNER_LAYERS, LAYERS } from './layers.config.js';

/** The pipeline must run under plain Node (CLI, tests): only src-main/electron may import electron. */
const ELECTRON_ONLY = [
  {
    name: 'electron',
    message: 'Only src-main/electron may import electron: the rest runs under plain Node (CLI, tests).',
  },
  { name: 'electron-store', message: 'Only src-main/electron may import electron-store.' },
];

/** '../' repeated `depth` times, as a regular expression. */
const up = (depth) => '\\.\\./'.repeat(depth);

/**
 * One no-restricted-imports block per src-main folder and file depth (src-main/x/a.ts reaches a
 * neighbour folder with '../', src-main/x/sub/a.ts with '../../'): a folder imports only the
 * tiers below its own in layers.config.js. Later blocks replace a rule's options rather than
 * merging them, so each block carries the electron restriction too.
 */
function layerBlocks() {
  const tierOf = new Map(LAYERS.flatMap((layer, tier) => layer.folders.map((f) => [f, tier])));
  const blocks = [];
  for (const [tier, layer] of LAYERS.entries()) {
    for (const folder of layer.folders) {
      const targets = [...tierOf].filter(([other, t]) => other !== folder && t >= tier);
      const patternsAt = (depth) =>
        targets.map(([other, t]) => ({
          regex: `^(\\./)?${up(depth)}${other}(/|$)`,
          message: `src-main/${folder} may not import src-main/${other} (${t > tier ? 'a layer above' : 'its neighbour in the same layer'}; imports go downward only, layers.config.js): ${layer.reason}.`,
        }));
      const paths = folder === 'electron' ? [] : ELECTRON_ONLY;
      for (const depth of [1, 2, 3]) {
        const inner = INNER_LAYERS.filter(
          (r) => r.files.split('/').length === depth + 1 && r.files.startsWith(`src-main/${folder}/`),
        );
        const glob = `src-main/${folder}/${'*/'.repeat(depth - 1)}*.ts`;
        blocks.push({
          files: [glob],
          ignores: inner.map((r) => `${r.files}/*.ts`),
          rules: { 'no-restricted-imports': ['error', { paths, patterns: patternsAt(depth) }] },
        });
        for (const rule of inner)
          blocks.push({
            files: [`${rule.files}/*.ts`],
            rules: {
              'no-restricted-imports': [
                'error',
                {
                  paths,
                  patterns: [
                    ...patternsAt(depth),
                    ...rule.forbidden.map((name) => ({
                      regex: `^(\\./)?\\.\\./${name}(/|$)`,
                      message: `${rule.files} may not import ${name}: ${rule.reason}.`,
                    })),
                  ],
                },
              ],
            },
          });
      }
    }
  }
  return blocks;
}

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'engine/**', 'test/artifacts/**', 'bench/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/explicit-function-return-type': [
        'error',
        { allowExpressions: true, allowTypedFunctionExpressions: true, allowHigherOrderFunctions: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...layerBlocks(),
  {
    // Raw IPC lives in one wrapper (src-main/electron/ipc.ts and src-preload); the renderer never sees it.
    files: ['src-renderer/**/*.ts', 'src-renderer/**/*.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The renderer talks through window.studio only.' }],
          patterns: [
            {
              regex: '^(\\.\\./)+src-(main|preload)(/|$)',
              message:
                'The renderer talks through window.studio only: it imports src-shared (the contract), never the main process or the preload.',
            },
          ],
        },
      ],
    },
  },
  {
    // The contracts are imported by every process, so they import none of them.
    files: ['src-shared/**/*.ts', 'src-preload/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+src-(main|renderer)(/|$)',
              message:
                "src-shared and src-preload are imported across the process boundary: they import only src-shared, never a process's code.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
