/**
 * Persona versions kept beside the database, one file each (personas/<id>/v0001.yaml or .txt,
 * the source as saved), so that a lost database loses no constitution: `character doctor`
 * stores them again, and opening a data folder whose database is missing but which holds them
 * is refused instead of starting an empty library ("Unknown persona").
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDir, personaFilesDir } from '../core/paths';

export interface PersonaFile {
  id: string;
  version: number;
  format: 'yaml' | 'text';
  source: string;
  path: string;
}

const FILE = /^v(\d+)\.(yaml|txt)$/;

export function personaFilePath(
  dataDir: string,
  id: string,
  version: number,
  format: 'yaml' | 'text',
): string {
  return join(
    personaFilesDir(dataDir),
    id,
    `v${String(version).padStart(4, '0')}.${format === 'yaml' ? 'yaml' : 'txt'}`,
  );
}

/** Writes one version's file (through a temporary file, so a crash leaves no half file). */
export function writePersonaFile(
  dataDir: string,
  p: { id: string; version: number; format: 'yaml' | 'text'; source: string },
): string {
  const path = personaFilePath(dataDir, p.id, p.version, p.format);
  makeDir(join(personaFilesDir(dataDir), p.id));
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, p.source);
  renameSync(tmp, path);
  return path;
}

/** Every persona version file of the data folder, by id then version. */
export function listPersonaFiles(dataDir: string): PersonaFile[] {
  const dir = personaFilesDir(dataDir);
  if (!existsSync(dir)) return [];
  const out: PersonaFile[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    for (const name of readdirSync(join(dir, e.name))) {
      const m = FILE.exec(name);
      if (!m) continue;
      const path = join(dir, e.name, name);
      out.push({
        id: e.name,
        version: Number(m[1]),
        format: m[2] === 'yaml' ? 'yaml' : 'text',
        source: readFileSync(path, 'utf8'),
        path,
      });
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id) || a.version - b.version);
}
