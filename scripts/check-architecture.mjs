// Two checks `npm run lint` runs beside ESLint (layers.config.js holds the layer rules):
//  1. no import cycle among the TypeScript modules of src-main + src-shared, nor of
//     src-renderer + src-shared (type-only imports count, as madge counts them);
//  2. no source module over MAX_LINES lines in src-main, src-shared, src-preload,
//     src-renderer or the engine's packages: a longer one is split by concern.
// Uses only TypeScript's own import scanner (ts.preProcessFile): nothing to install.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import process from 'node:process';
import ts from 'typescript';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const MAX_LINES = 450;

function walk(dir, exts, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === '__pycache__' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, exts, out);
    else if (exts.some((e) => name.endsWith(e)) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The module a relative specifier names, or null (packages, node: builtins, assets). */
function resolveImport(from, spec) {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec.replace(/\.js$/, ''));
  for (const candidate of [
    base,
    `${base}.ts`,
    `${base}.tsx`,
    join(base, 'index.ts'),
    join(base, 'index.tsx'),
  ])
    if (existsSync(candidate) && statSync(candidate).isFile() && /\.tsx?$/.test(candidate)) return candidate;
  return null;
}

/** Cycles (strongly connected components of more than one module, or a self-import) by Tarjan. */
function cycles(files) {
  const graph = new Map();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    graph.set(
      file,
      importedFiles
        .map((i) => resolveImport(file, i.fileName))
        .filter((t) => t !== null && files.includes(t)),
    );
  }
  let index = 0;
  const stack = [];
  const meta = new Map();
  const found = [];
  const strong = (v) => {
    meta.set(v, { index, low: index, on: true });
    index++;
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!meta.has(w)) {
        strong(w);
        meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).low);
      } else if (meta.get(w).on) meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).index);
    }
    if (meta.get(v).low === meta.get(v).index) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        meta.get(w).on = false;
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component);
    }
  };
  for (const v of graph.keys()) if (!meta.has(v)) strong(v);
  return found;
}

const problems = [];
const shared = walk(join(root, 'src-shared'), ['.ts']);
for (const [name, folder] of [
  ['src-main + src-shared', 'src-main'],
  ['src-renderer + src-shared', 'src-renderer'],
]) {
  const files = [...walk(join(root, folder), ['.ts', '.tsx']), ...shared];
  for (const component of cycles(files))
    problems.push(`import cycle in ${name}: ${component.map((f) => relative(root, f)).join(' -> ')}`);
}

const sources = [
  ...['src-main', 'src-shared', 'src-preload', 'src-renderer'].flatMap((d) =>
    walk(join(root, d), ['.ts', '.tsx']),
  ),
  ...['engine/character_engine', 'engine/character_dev'].flatMap((d) => walk(join(root, d), ['.py'])),
];
for (const file of sources) {
  const lines = readFileSync(file, 'utf8').split('\n').length - 1;
  if (lines > MAX_LINES)
    problems.push(`${relative(root, file)}: ${lines} lines, over ${MAX_LINES}: split it by concern`);
}

for (const p of problems) console.error(p);
if (problems.length > 0) process.exit(1);
console.log(`architecture: no import cycle, no module over ${MAX_LINES} lines (${sources.length} modules)`);
