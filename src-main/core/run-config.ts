/**
 * What a run is: its recipe, persona, models, teacher provider and scale settings. Parsed and
 * validated once where it enters (createRun from the CLI or a handler; the runs repository when
 * it reads a stored row) and typed everywhere after. A run's progress (completed steps, status,
 * timings) is kept apart from it, in its own columns.
 */
import type { ModelSpec } from '../../src-shared/engine-protocol';
import { parseScaleConfig, scaleConfig, type ScaleConfig } from './scales';
import { IMPORT_FORMATS, type ImportFormat, type ImportUse, type Scale } from '../../src-shared/contract';
import { joinField, Reader, type Json } from './validate';
import {
  parseTinkerRunConfig,
  TRAINING_BACKENDS,
  type TinkerRunConfig,
  type TrainingBackend,
} from './backend';
import type { CharacterRecipeOptions } from '../../src-shared/character';
import { parseCharacterOptions } from './character-options';

/**
 * distill: prompt distillation (teacher WITH the constitution, student WITHOUT it);
 * character: DPO then introspection SFT (Open Character Training); good-pairs: SFT on approved
 * pairs collected from evaluations and reviews.
 */
export type Recipe = 'distill' | 'character' | 'good-pairs';
export const RECIPES: readonly Recipe[] = ['distill', 'character', 'good-pairs'];

export function isRecipe(value: string): value is Recipe {
  return (RECIPES as readonly string[]).includes(value);
}

/** tinker: the teacher samples on Tinker (runs with the tinker backend, see backend.ts). */
export type TeacherProviderKind = 'local' | 'openai' | 'tinker';

/**
 * A run whose questions come from an imported file (chat JSONL, ShareGPT, Alpaca, Character-LLM)
 * instead of the persona's templates; with use 'teacher' its answers are the teacher data too
 * (the generate step reads them instead of asking a teacher).
 */
export interface ImportedDataConfig {
  /** The file, absolute; the questions step keeps a copy of what it took (imported_data.jsonl). */
  path: string;
  format: ImportFormat;
  use: ImportUse;
  /** Character-LLM files: whose turns are the answers; null for the other layouts. */
  character: string | null;
}

/** Everything a run needs to be repeated, stored with it (never an API key). */
export interface RunConfig {
  recipe: Recipe;
  personaName: string;
  teacherModel: ModelSpec;
  studentModel: ModelSpec;
  teacherProvider: TeacherProviderKind;
  /** The endpoint's address and model when the teacher is remote (never its key). */
  teacherEndpoint: { baseUrl: string; model: string } | null;
  scaleConfig: ScaleConfig;
  /** Absent: questions from the persona's templates, answers from the teacher. */
  importedData?: ImportedDataConfig;
  /** The character recipe's options; absent: sequential mode with its scale's defaults. */
  character?: CharacterRecipeOptions;
  /** Where it trains; absent: the local engine (configs stored before backends existed). */
  backend?: TrainingBackend;
  /** The Tinker models of a run with the tinker backend. */
  tinker?: TinkerRunConfig;
}

const RUN_CONFIG_KEYS: readonly (keyof RunConfig)[] = [
  'recipe',
  'personaName',
  'teacherModel',
  'studentModel',
  'teacherProvider',
  'teacherEndpoint',
  'scaleConfig',
  'importedData',
  'character',
  'backend',
  'tinker',
];

function parseImportedData(raw: unknown, reader: Reader): ImportedDataConfig {
  const o = reader.object(raw, 'importedData');
  reader.known(o, ['path', 'format', 'use', 'character'], 'importedData');
  return {
    path: reader.string(o, 'path', 'importedData'),
    format: reader.oneOf(o, 'format', 'importedData', IMPORT_FORMATS),
    use: reader.oneOf(o, 'use', 'importedData', ['teacher', 'questions'] as const),
    character:
      o.character === null || o.character === undefined
        ? null
        : reader.string(o, 'character', 'importedData'),
  };
}

function parseModelSpecJson(raw: unknown, reader: Reader, field: string): ModelSpec {
  const o = reader.object(raw, field);
  const source = reader.oneOf(o, 'source', field, ['default', 'local', 'gguf', 'hub'] as const);
  switch (source) {
    case 'default':
      return { source };
    case 'local':
    case 'gguf':
      return { source, path: reader.string(o, 'path', field) };
    case 'hub': {
      const spec: ModelSpec = { source, repo_id: reader.string(o, 'repo_id', field) };
      for (const key of ['revision', 'endpoint', 'cache_dir'] as const) {
        if (o[key] !== undefined) spec[key] = reader.string(o, key, field);
      }
      return spec;
    }
  }
}

/** A stored or submitted run configuration, typed; a ConfigError names the run and the field. */
export function parseRunConfig(raw: unknown, runId: string): RunConfig {
  const reader = new Reader(`run ${runId}: stored configuration`);
  const o: Json = reader.object(raw, 'config');
  reader.known(o, RUN_CONFIG_KEYS, '');
  const endpoint =
    o.teacherEndpoint === null || o.teacherEndpoint === undefined
      ? null
      : reader.object(o.teacherEndpoint, 'teacherEndpoint');
  return {
    recipe: reader.oneOf(o, 'recipe', '', RECIPES),
    personaName: reader.string(o, 'personaName', ''),
    teacherModel: parseModelSpecJson(o.teacherModel, reader, 'teacherModel'),
    studentModel: parseModelSpecJson(o.studentModel, reader, 'studentModel'),
    teacherProvider: reader.oneOf(o, 'teacherProvider', '', ['local', 'openai', 'tinker'] as const),
    teacherEndpoint: endpoint
      ? {
          baseUrl: reader.string(endpoint, 'baseUrl', joinField('', 'teacherEndpoint')),
          model: reader.string(endpoint, 'model', 'teacherEndpoint'),
        }
      : null,
    scaleConfig: parseScaleConfig(o.scaleConfig, reader, 'scaleConfig'),
    // Optional: configs stored before imports existed have none.
    ...(o.importedData === undefined || o.importedData === null
      ? {}
      : { importedData: parseImportedData(o.importedData, reader) }),
    // Optional: configs stored before the character options existed have none.
    ...(o.character === undefined || o.character === null
      ? {}
      : { character: parseCharacterOptions(o.character, reader, 'character') }),
    // Optional: configs stored before training backends existed train locally.
    ...(o.backend === undefined || o.backend === null
      ? {}
      : { backend: reader.oneOf(o, 'backend', '', TRAINING_BACKENDS) }),
    ...(o.tinker === undefined || o.tinker === null
      ? {}
      : { tinker: parseTinkerRunConfig(o.tinker, reader, 'tinker') }),
  };
}

/** The configuration of a run created without one: the scale's defaults on the embedded model. */
export function defaultRunConfig(scale: Scale, personaName: string): RunConfig {
  return {
    recipe: 'distill',
    personaName,
    teacherModel: { source: 'default' },
    studentModel: { source: 'default' },
    teacherProvider: 'local',
    teacherEndpoint: null,
    scaleConfig: scaleConfig(scale),
  };
}
