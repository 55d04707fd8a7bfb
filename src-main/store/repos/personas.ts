import type Database from 'better-sqlite3';
import { writePersonaFile } from '../persona-files';
import { nowIso } from '../util';

export interface PersonaRecord {
  id: string;
  version: number;
  format: 'yaml' | 'text';
  source: string;
  name: string;
  description: string;
  createdAt: string;
}

export interface SavePersonaInput {
  id: string;
  name: string;
  format: 'yaml' | 'text';
  source: string;
  description?: string;
}

interface PersonaDbRow {
  id: string;
  version: number;
  format: 'yaml' | 'text';
  source: string;
  name: string;
  description: string;
  created_at: string;
}

function toRecord(r: PersonaDbRow): PersonaRecord {
  return {
    id: r.id,
    version: r.version,
    format: r.format,
    source: r.source,
    name: r.name,
    description: r.description,
    createdAt: r.created_at,
  };
}

export interface PersonasRepo {
  /** Saves a new version when the text (or format) changed; otherwise returns the latest unchanged. */
  save(input: SavePersonaInput): { record: PersonaRecord; changed: boolean };
  latest(id: string): PersonaRecord | null;
  get(id: string, version: number): PersonaRecord | null;
  /** The latest version of every persona, by id. */
  list(): PersonaRecord[];
  history(id: string): PersonaRecord[];
  delete(id: string): number;
  /** Stores a version as it was (from its file, after a lost database); false when it is there already. */
  restore(record: Omit<PersonaRecord, 'createdAt'> & { createdAt?: string }): boolean;
}

/** `dataDir`: each new version is also written to a file there (persona-files.ts); null for :memory:. */
export function personasRepo(db: Database.Database, dataDir: string | null = null): PersonasRepo {
  const latestStmt = db.prepare<[string], PersonaDbRow>(
    'SELECT * FROM personas WHERE id = ? ORDER BY version DESC LIMIT 1',
  );
  const getStmt = db.prepare<[string, number], PersonaDbRow>(
    'SELECT * FROM personas WHERE id = ? AND version = ?',
  );
  const insertStmt = db.prepare(
    `INSERT INTO personas (id, version, format, source, name, description, created_at)
     VALUES (@id, @version, @format, @source, @name, @description, @created_at)`,
  );
  const listStmt = db.prepare<[], PersonaDbRow>(
    `SELECT p.* FROM personas p
     JOIN (SELECT id, MAX(version) AS v FROM personas GROUP BY id) m ON m.id = p.id AND m.v = p.version
     ORDER BY p.id`,
  );
  const historyStmt = db.prepare<[string], PersonaDbRow>(
    'SELECT * FROM personas WHERE id = ? ORDER BY version',
  );
  const deleteStmt = db.prepare('DELETE FROM personas WHERE id = ?');

  const save = db.transaction((input: SavePersonaInput): { record: PersonaRecord; changed: boolean } => {
    const prev = latestStmt.get(input.id);
    if (prev && prev.source === input.source && prev.format === input.format) {
      return { record: toRecord(prev), changed: false };
    }
    const row: PersonaDbRow = {
      id: input.id,
      version: prev ? prev.version + 1 : 1,
      format: input.format,
      source: input.source,
      name: input.name,
      description: input.description ?? '',
      created_at: nowIso(),
    };
    insertStmt.run(row);
    // Inside the transaction: a version whose file cannot be written is not saved either.
    if (dataDir) writePersonaFile(dataDir, row);
    return { record: toRecord(row), changed: true };
  });

  return {
    save: (input) => save(input),
    latest: (id) => {
      const r = latestStmt.get(id);
      return r ? toRecord(r) : null;
    },
    get: (id, version) => {
      const r = getStmt.get(id, version);
      return r ? toRecord(r) : null;
    },
    list: () => listStmt.all().map(toRecord),
    history: (id) => historyStmt.all(id).map(toRecord),
    delete: (id) => deleteStmt.run(id).changes,
    restore: (r) => {
      if (getStmt.get(r.id, r.version)) return false;
      insertStmt.run({
        id: r.id,
        version: r.version,
        format: r.format,
        source: r.source,
        name: r.name,
        description: r.description,
        created_at: r.createdAt ?? nowIso(),
      });
      return true;
    },
  };
}
