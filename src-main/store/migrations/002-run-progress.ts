import type Database from 'better-sqlite3';
import { parseModelSpec } from '../../core/model-spec';
import { scaleConfig } from '../../core/scales';
import type { Scale } from '../../../src-shared/contract';

/**
 * Run progress apart from run configuration. Schema 1 kept the completed steps inside the
 * `runs.config` JSON beside the settings, and older code paths stored configs with fields
 * missing (read back with defaults by every caller). This moves `completedSteps` into its own
 * column and writes every config out complete, with the defaults those callers used, so the
 * config can be parsed strictly from now on. A config that is not JSON is left as it is: reading
 * that run then fails with an error naming it.
 */
export function up(db: Database.Database): void {
  db.exec(`ALTER TABLE runs ADD COLUMN completed_steps TEXT NOT NULL DEFAULT '[]'`);
  const rows = db
    .prepare<[], { id: string; persona_id: string; scale: string; config: string }>(
      'SELECT id, persona_id, scale, config FROM runs',
    )
    .all();
  const write = db.prepare('UPDATE runs SET config = @config, completed_steps = @steps WHERE id = @id');
  for (const row of rows) {
    let stored: Record<string, unknown>;
    try {
      const parsed = JSON.parse(row.config) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) continue;
      stored = parsed as Record<string, unknown>;
    } catch {
      continue;
    }
    const { completedSteps, ...config } = stored;
    const steps = Array.isArray(completedSteps) ? completedSteps.filter((s) => typeof s === 'string') : [];
    write.run({
      id: row.id,
      config: JSON.stringify(withDefaults(config, row)),
      steps: JSON.stringify(steps),
    });
  }
}

/** The defaults schema-1 readers filled in (pipeline/service.ts runConfig and the runner). */
function withDefaults(
  c: Record<string, unknown>,
  row: { persona_id: string; scale: string },
): Record<string, unknown> {
  let defaults: ReturnType<typeof scaleConfig> | null = null;
  try {
    defaults = scaleConfig(row.scale as Scale);
  } catch {
    /* an unknown scale: leave the stored value for the reader to name */
  }
  const stored = c.scaleConfig as Record<string, unknown> | undefined;
  const sc =
    defaults && (stored === undefined || (typeof stored === 'object' && stored !== null))
      ? { ...defaults, ...(stored ?? {}) }
      : stored;
  const training = (sc as { training?: { baseModel?: unknown } } | undefined)?.training;
  let student = c.studentModel;
  if (student === undefined) {
    try {
      student = parseModelSpec(
        typeof training?.baseModel === 'string' ? training.baseModel || 'default' : 'default',
      );
    } catch {
      student = { source: 'default' };
    }
  }
  return {
    recipe: c.recipe ?? 'distill',
    personaName: c.personaName ?? row.persona_id,
    teacherModel: c.teacherModel ?? student,
    studentModel: student,
    teacherProvider: c.teacherProvider ?? 'local',
    teacherEndpoint: c.teacherEndpoint ?? null,
    scaleConfig: sc,
    // Anything else stays, so the strict reader can name it rather than it vanishing silently.
    ...Object.fromEntries(
      Object.entries(c).filter(
        ([k]) =>
          ![
            'recipe',
            'personaName',
            'teacherModel',
            'studentModel',
            'teacherProvider',
            'teacherEndpoint',
            'scaleConfig',
          ].includes(k),
      ),
    ),
  };
}
