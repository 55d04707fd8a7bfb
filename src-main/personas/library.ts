/**
 * The persona library: built-ins shipped in resources/personas/ and user personas kept in the
 * store. Built-ins are copied into the store (unchanged text does not make a new version), so a
 * run's persona_version always names text the store holds.
 */
import { StudioError } from '../core/errors';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PersonaDetail, PersonaSummary, ValidationIssue } from '../../src-shared/contract';
import type { PersonaRecord, Store } from '../store';
import { parsePersona, wordCount, type ParsedPersona, type PersonaFormat } from './parse';

/** A persona that failed validation; `issues` carries each problem's line and field. */
/** A constitution that does not validate (`issues` lists each problem with its line and field), or a missing one. */
export class PersonaError extends StudioError {
  constructor(
    message: string,
    readonly issues: ValidationIssue[],
    detail: Record<string, unknown> = {},
    code: 'invalid_input' | 'not_found' | 'io' | 'conflict' = 'invalid_input',
  ) {
    super(message, code, detail);
  }
}

/** The shipped resources folder; CHARACTER_RESOURCES_DIR overrides it (e.g. a packaged app). */
export function resourcesDir(): string {
  return process.env.CHARACTER_RESOURCES_DIR ?? fileURLToPath(new URL('../../resources', import.meta.url));
}

export interface BuiltInPersona {
  id: string;
  format: PersonaFormat;
  source: string;
  file: string;
  parsed: ParsedPersona;
}

/** Reads and validates resources/personas/*.yaml|*.txt; an invalid shipped file is an error. */
export function loadBuiltInPersonas(dir: string = join(resourcesDir(), 'personas')): BuiltInPersona[] {
  const out: BuiltInPersona[] = [];
  for (const file of readdirSync(dir).sort()) {
    const ext = extname(file).toLowerCase();
    const format: PersonaFormat | null =
      ext === '.yaml' || ext === '.yml' ? 'yaml' : ext === '.txt' ? 'text' : null;
    if (!format) continue;
    const source = readFileSync(join(dir, file), 'utf8');
    const fileId = basename(file, extname(file));
    const { persona, issues } = parsePersona(source, format, fileId);
    if (!persona) throw new PersonaError(`Built-in persona ${file} is invalid`, issues, { file });
    out.push({ id: persona.id, format, source, file: join(dir, file), parsed: persona });
  }
  return out;
}

/**
 * Copies built-ins into the store; returns the ids that got a new version. A shipped text is
 * stored when the persona is new or when the shipped file changed since the last sync, so a
 * user's edit of a built-in is not overwritten on every start. Idempotent.
 */
export function syncBuiltInPersonas(
  store: Store,
  builtIns: BuiltInPersona[] = loadBuiltInPersonas(),
): string[] {
  return store.transaction(() => {
    const synced: string[] = [];
    for (const b of builtIns) {
      const key = `personas.builtin_sha256.${b.id}`;
      const hash = createHash('sha256').update(`${b.format}\n${b.source}`).digest('hex');
      if (store.kv.get(key) === hash && store.personas.latest(b.id)) continue;
      const { changed } = store.personas.save({
        id: b.id,
        name: b.parsed.name,
        format: b.format,
        source: b.source,
        description: b.parsed.description,
      });
      store.kv.set(key, hash);
      if (changed) synced.push(b.id);
    }
    return synced;
  });
}

function detailOf(rec: PersonaRecord, builtInIds: ReadonlySet<string>): PersonaDetail {
  const { persona } = parsePersona(rec.source, rec.format, rec.id);
  if (!persona)
    throw new PersonaError(`Stored persona ${rec.id} v${rec.version} no longer validates`, [], {
      id: rec.id,
    });
  return {
    id: rec.id,
    name: rec.name,
    version: rec.version,
    format: rec.format,
    description: rec.description,
    wordCount: wordCount(persona.systemPrompt),
    builtIn: builtInIds.has(rec.id),
    source: rec.source,
    systemPrompt: persona.systemPrompt,
    keywords: persona.keywords,
  };
}

function summaryOf(d: PersonaDetail): PersonaSummary {
  return {
    id: d.id,
    name: d.name,
    version: d.version,
    format: d.format,
    description: d.description,
    wordCount: d.wordCount,
    builtIn: d.builtIn,
  };
}

export interface PersonaLibrary {
  list(): PersonaSummary[];
  /** The latest version, or a given one (what a run used). Throws PersonaError when unknown. */
  get(id: string, version?: number): PersonaDetail;
  /** Validates and saves; unchanged text keeps its version, changed text gets version + 1. */
  /**
   * Saves a new version. A constitution whose id is a built-in's would become that built-in's
   * next version (and what `pipeline <id>` uses): refused with code 'conflict' unless
   * `newVersionOfBuiltIn` says that is meant.
   */
  save(
    source: string,
    format: PersonaFormat,
    id?: string,
    opts?: { newVersionOfBuiltIn?: boolean },
  ): PersonaSummary;
}

/** The library over a store; syncs built-ins once when created. */
export function personaLibrary(
  store: Store,
  builtIns: BuiltInPersona[] = loadBuiltInPersonas(),
): PersonaLibrary {
  syncBuiltInPersonas(store, builtIns);
  const builtInIds = new Set(builtIns.map((b) => b.id));
  return {
    list: () => store.personas.list().map((r) => summaryOf(detailOf(r, builtInIds))),
    get: (id, version) => {
      const rec = version === undefined ? store.personas.latest(id) : store.personas.get(id, version);
      if (!rec) {
        throw new PersonaError(
          `Unknown persona ${id}${version === undefined ? '' : ` v${version}`}`,
          [],
          {
            id,
            version,
          },
          'not_found',
        );
      }
      return detailOf(rec, builtInIds);
    },
    save: (source, format, id, opts = {}) => {
      const { persona, issues } = parsePersona(source, format, id);
      if (!persona) throw new PersonaError(`Persona is invalid (${issues.length} problem(s))`, issues);
      const target = id ?? persona.id;
      if (builtInIds.has(target) && !opts.newVersionOfBuiltIn) {
        throw new PersonaError(
          `"${target}" is a built-in persona: saving would make this its next version, which runs of "${target}" then use. Confirm to do that, or give the constitution another id (meta.id in YAML, the "# Name" line in text).`,
          [],
          { id: target, builtIn: true },
          'conflict',
        );
      }
      // An id derived from the name (no meta.id, none given) that another character already
      // holds: saving would make this character that one's next version, and its runs use it.
      const explicitId =
        id !== undefined || persona.structured?.meta.id !== undefined || opts.newVersionOfBuiltIn === true;
      const existing = store.personas.latest(target);
      if (!explicitId && existing && existing.name !== persona.name) {
        throw new PersonaError(
          `"${persona.name}" would be saved as "${target}", which is already "${existing.name}" (v${existing.version}): give this constitution its own id (meta.id in YAML), or name it as "${existing.name}" to make a new version`,
          [],
          { id: target, name: persona.name, existingName: existing.name },
          'conflict',
        );
      }
      const { record } = store.personas.save({
        id: id ?? persona.id,
        name: persona.name,
        format,
        source,
        description: persona.description,
      });
      return summaryOf(detailOf(record, builtInIds));
    },
  };
}
