import type { PipelineStep } from '../../src-shared/contract';
import { isAbsolute } from 'node:path';
import { InvalidParamsError, NotFoundError } from '../core/errors';
import { checkImportedData } from '../pipeline/recipes/imported';
import { PIPELINE_STEPS, toRunSummary } from '../pipeline/runner';
import { SCALE_NAMES } from '../core/scales';
import { createRun } from '../runs/create-run';
import { TRAINING_BACKENDS, type TrainingBackend } from '../core/backend';
import { startInBackground } from './background';
import type { HandlerServices } from './context';
import { requireOneOf, requireString } from './params';
import type { Handlers } from './types';

type RunChannels = 'runs:list' | 'runs:get' | 'runs:create' | 'runs:step' | 'runs:cancel' | 'runs:resume';

export function requireStep(params: unknown): PipelineStep {
  return requireOneOf(params, 'step', PIPELINE_STEPS);
}

/**
 * Logs a background failure to stderr with its stack: the run's status and error already tell
 * the user it failed; the stack is for whoever reads the log.
 */
export function logBackgroundFailure(what: string): (error: unknown) => void {
  return (error) => {
    process.stderr.write(
      `[handlers] ${what}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  };
}

export function runHandlers(s: HandlerServices): Pick<Handlers, RunChannels> {
  return {
    'runs:list': async () => {
      // A run whose process died since the last look (a killed CLI) is shown interrupted.
      s.store.owners.markInterrupted();
      return s.store.runs.summaries();
    },
    'runs:get': async (params) => toRunSummary(s.store.runs.require(requireString(params, 'id'))),
    'runs:create': async (params) => {
      const personaId = requireString(params, 'personaId');
      const scale = requireOneOf(params, 'scale', SCALE_NAMES);
      if (!s.store.personas.latest(personaId)) throw new NotFoundError('persona', personaId);
      const data = (params as { data?: unknown }).data;
      const where = backendParams(params);
      if (data === undefined || data === null)
        return toRunSummary(createRun(s, { personaId, scale, ...where }));
      // A run on imported data: the file is read now, so a malformed one fails before the run exists.
      const path = requireString(data, 'path');
      if (!isAbsolute(path))
        throw new InvalidParamsError('"data.path" must be an absolute path', 'data.path');
      const use = requireOneOf(data, 'use', ['teacher', 'questions'] as const);
      const persona = s.personas.get(personaId);
      const { config } = checkImportedData(path, { use, character: persona.name });
      return toRunSummary(createRun(s, { personaId, scale, importedData: config, ...where }));
    },
    // Resolves when the step has finished (progress arrives meanwhile as events). The work runs
    // in this process, so a closed window or dropped connection does not stop it; a failure is
    // recorded in the run (status failed, with the message) and also thrown to the caller.
    'runs:step': async (params) => {
      const runId = requireString(params, 'runId');
      const step = requireStep(params);
      s.store.runs.require(runId);
      return toRunSummary(await s.runner.runStep(runId, step));
    },
    'runs:cancel': async (params) => ({ cancelled: s.runner.cancel(requireString(params, 'runId')) }),
    // Resolves once the remaining steps have started; their progress and outcome arrive as events.
    'runs:resume': async (params) => {
      const runId = requireString(params, 'runId');
      s.store.runs.require(runId);
      await startInBackground(() => s.runner.resume(runId), logBackgroundFailure(`run ${runId} resume`));
      return toRunSummary(s.store.runs.require(runId));
    },
  };
}

/** runs:create's optional training backend (pipeline/tinker.ts) and Tinker model names. */
function backendParams(params: unknown): {
  backend?: TrainingBackend;
  tinker?: { baseModel?: string; teacherModel?: string };
} {
  const p = params as { backend?: unknown; tinker?: unknown };
  if (p.backend === undefined || p.backend === null) return {};
  const backend = requireOneOf(params, 'backend', TRAINING_BACKENDS);
  if (backend === 'local') return {};
  const names = (p.tinker ?? {}) as { baseModel?: unknown; teacherModel?: unknown };
  const name = (key: 'baseModel' | 'teacherModel'): { [k: string]: string } =>
    typeof names[key] === 'string' && names[key] !== '' ? { [key]: requireString(names, key) } : {};
  return { backend, tinker: { ...name('baseModel'), ...name('teacherModel') } };
}
