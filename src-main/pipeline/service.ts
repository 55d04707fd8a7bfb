/**
 * Pipeline services built on an opened studio: creating runs (with their full, key-free
 * configuration), reading a run's configuration back, personas, checkpoints for chat.
 */
import type { Scale, TrainingConfig } from '../../src-shared/contract';
import type { ModelSpec } from '../../src-shared/engine-protocol';
import { ChatService } from '../chat/service';
import { personaLibrary, type PersonaLibrary } from '../personas';
import { createRegistry, type Registry } from '../registry';
import type { RunRecord } from '../store';
import { NotFoundError, PipelineError } from '../core/errors';
import { ensureRunDir, newRunId } from '../core/paths';
import { scaleConfig, type ScaleConfig } from '../core/scales';
import { formatModelSpec, parseModelSpec } from '../core/model-spec';
import type { Studio } from './studio';
import { validateTrainingConfig } from '../core/training-config';

export type StudioServices = Omit<Studio, 'runner' | 'close'>;

/** Everything a run needs to be repeated, stored in runs.config (no API keys). */
/**
 * distill: prompt distillation by SFT; character: DPO then introspection SFT (Open Character
 * Training); good-pairs: SFT on approved pairs collected from evaluations and reviews.
 */
export type Recipe = 'distill' | 'character' | 'good-pairs';
export const RECIPES: readonly Recipe[] = ['distill', 'character', 'good-pairs'];

export function isRecipe(value: string): value is Recipe {
  return (RECIPES as readonly string[]).includes(value);
}

export interface RunConfig {
  recipe: Recipe;
  personaName: string;
  teacherModel: ModelSpec;
  studentModel: ModelSpec;
  teacherProvider: 'local' | 'openai';
  /** The endpoint's address and model when the teacher is remote (never its key). */
  teacherEndpoint: { baseUrl: string; model: string } | null;
  scaleConfig: ScaleConfig;
  completedSteps: string[];
}

export interface CreateRunOptions {
  personaId: string;
  scale: Scale;
  teacherModel?: ModelSpec;
  studentModel?: ModelSpec;
  training?: Partial<TrainingConfig>;
  recipe?: Recipe;
}

const libraries = new WeakMap<object, PersonaLibrary>();

/** The persona library of a studio (built-ins synced into the store once per studio). */
export function personas(studio: Pick<StudioServices, 'store'>): PersonaLibrary {
  let lib = libraries.get(studio.store);
  if (!lib) {
    lib = personaLibrary(studio.store);
    libraries.set(studio.store, lib);
  }
  return lib;
}

export function createRun(studio: StudioServices, opts: CreateRunOptions): RunRecord {
  const persona = personas(studio).get(opts.personaId);
  const settings = studio.settings.all();
  const studentModel = opts.studentModel ?? settings.studentModel;
  const teacherModel = opts.teacherModel ?? opts.studentModel ?? settings.teacherModel;
  const sc = scaleConfig(opts.scale);
  sc.training = { ...sc.training, ...opts.training, baseModel: formatModelSpec(studentModel) };
  validateTrainingConfig(sc.training);
  const teacherProvider = settings.teacherProvider === 'openai' && settings.openai ? 'openai' : 'local';
  const config: RunConfig = {
    recipe: opts.recipe ?? 'distill',
    personaName: persona.name,
    teacherModel,
    studentModel,
    teacherProvider,
    teacherEndpoint:
      teacherProvider === 'openai' && settings.openai
        ? { baseUrl: settings.openai.baseUrl, model: settings.openai.model }
        : null,
    scaleConfig: sc,
    completedSteps: [],
  };
  const id = newRunId(persona.id, opts.scale);
  const paths = ensureRunDir(studio.dataDir, id);
  return studio.store.runs.create({
    id,
    personaId: persona.id,
    personaVersion: persona.version,
    scale: opts.scale,
    dir: paths.dir,
    config: config as unknown as Record<string, unknown>,
  });
}

/** A run's stored configuration, with defaults for runs created by other code paths. */
export function runConfig(run: RunRecord): RunConfig {
  const c = run.config as Partial<RunConfig>;
  const sc = c.scaleConfig ?? scaleConfig(run.scale);
  const studentModel = c.studentModel ?? parseModelSpec(sc.training.baseModel || 'default');
  return {
    recipe: c.recipe && isRecipe(c.recipe) ? c.recipe : 'distill',
    personaName: c.personaName ?? run.personaId,
    teacherModel: c.teacherModel ?? studentModel,
    studentModel,
    teacherProvider: c.teacherProvider ?? 'local',
    teacherEndpoint: c.teacherEndpoint ?? null,
    scaleConfig: sc,
    completedSteps: c.completedSteps ?? [],
  };
}

/** The checkpoint registry of a studio (promote, rollback, the active checkpoint). */
export function registry(studio: Pick<StudioServices, 'store'>): Registry {
  return createRegistry(studio.store);
}

/** An explicit id, else the registry's active checkpoint, else the newest checkpoint, else none. */
export function resolveCheckpointId(studio: StudioServices, id: string | null): string | null {
  if (id) {
    if (!studio.store.checkpoints.get(id)) throw new NotFoundError('checkpoint', id);
    return id;
  }
  const active = registry(studio).active();
  if (active) return active.id;
  const newest = studio.store.checkpoints.list().sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  return newest?.id ?? null;
}

const chats = new WeakMap<object, ChatService>();

export function chatService(studio: StudioServices): ChatService {
  let svc = chats.get(studio.store);
  if (!svc) {
    svc = new ChatService({
      store: studio.store,
      engine: studio.engine,
      events: studio.events,
      defaultModel: studio.settings.get('studentModel'),
      systemPromptFor: (personaId, version) => {
        try {
          return personas(studio).get(personaId, version ?? undefined).systemPrompt;
        } catch (error) {
          throw new PipelineError(
            `cannot load persona ${personaId} for the teacher: ${(error as Error).message}`,
          );
        }
      },
    });
    chats.set(studio.store, svc);
  }
  return svc;
}
