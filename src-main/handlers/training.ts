import type { MetricPoint, TrainingConfig, TrainingJobSummary } from '../../src-shared/contract';
import { SCALE_NAMES, trainingDefaults } from '../core/scales';
import { withTrainingConfig } from '../runs/configure-training';
import { withCharacterOptions } from '../runs/configure-character';
import { formatModelSpec } from '../core/model-spec';
import { parseTrainingConfig } from '../core/training-config';
import { Reader } from '../core/validate';
import type { TrainingJobRecord } from '../store';
import { startInBackground } from './background';
import type { HandlerServices } from './context';
import { InvalidParamsError } from '../core/errors';
import { optionalString, requireInt, requireOneOf, requireString } from './params';
import { logBackgroundFailure } from './runs';
import type { Handlers } from './types';

type TrainingChannels =
  'training:defaults' | 'training:start' | 'training:status' | 'training:metrics' | 'training:cancel';

/** The form's training configuration, typed and range-checked (errors name the field). */
function requireConfig(params: unknown): TrainingConfig {
  const config = (params as { config?: unknown } | null)?.config;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new InvalidParamsError('"config" must be a training configuration object', 'config');
  }
  return parseTrainingConfig(config, new Reader('training configuration'), 'config');
}

function metricPoint(p: MetricPoint): MetricPoint {
  const out: MetricPoint = { step: p.step, kind: p.kind, loss: p.loss };
  if (p.lr !== undefined) out.lr = p.lr;
  if (p.gradNorm !== undefined) out.gradNorm = p.gradNorm;
  if (p.tokensPerS !== undefined) out.tokensPerS = p.tokensPerS;
  return out;
}

export function trainingHandlers(s: HandlerServices): Pick<Handlers, TrainingChannels> {
  function jobSummary(job: TrainingJobRecord): TrainingJobSummary {
    const last = s.store.metrics.last(job.id, 'train');
    let etaSeconds: number | null = null;
    if (job.status === 'running' && job.startedAt && job.step > 0 && job.totalSteps > job.step) {
      const elapsedS = (Date.now() - Date.parse(job.startedAt)) / 1000;
      etaSeconds = Math.round((elapsedS / job.step) * (job.totalSteps - job.step));
    }
    return {
      id: job.id,
      runId: job.runId,
      status: job.status,
      config: job.config,
      step: job.step,
      totalSteps: job.totalSteps,
      tokensPerS: last?.tokensPerS ?? null,
      etaSeconds,
    };
  }

  return {
    'training:defaults': async (params) => {
      const scale = requireOneOf(params, 'scale', SCALE_NAMES);
      const runId = optionalString(params, 'runId');
      if (!runId) return trainingDefaults(scale);
      const stored = s.store.runs.require(runId).config;
      return { ...stored.scaleConfig.training, baseModel: formatModelSpec(stored.studentModel) };
    },

    'training:start': async (params) => {
      const runId = requireString(params, 'runId');
      const training = requireConfig(params);
      const character = (params as { character?: unknown }).character;
      // Read once, check both changes, save once: a bad character option leaves the stored
      // training configuration as it was.
      const run = s.store.transaction(() => {
        const current = s.store.runs.require(runId);
        let runConfig = withTrainingConfig(current.config, training, s.store.splits.counts(runId).train);
        if (character !== undefined && character !== null)
          runConfig = withCharacterOptions(runId, runConfig, character);
        return s.store.runs.update(runId, { config: runConfig });
      });
      const config = run.config.scaleConfig.training;
      const before = s.store.jobs.latestForRun(runId)?.id ?? null;
      await startInBackground(
        () => s.runner.runStep(runId, 'train'),
        logBackgroundFailure(`run ${runId} training`),
      );
      const job = s.store.jobs.latestForRun(runId);
      if (job && job.id !== before) return jobSummary(job);
      // The train step has not created its job yet (it loads data first): report it as queued.
      return {
        id: '',
        runId,
        status: 'pending',
        config,
        step: 0,
        totalSteps: config.maxSteps,
        tokensPerS: null,
        etaSeconds: null,
      };
    },

    'training:status': async (params) => {
      const runId = requireString(params, 'runId');
      s.store.runs.require(runId);
      const job = s.store.jobs.latestForRun(runId);
      return job ? jobSummary(job) : null;
    },

    'training:metrics': async (params) => {
      const runId = requireString(params, 'runId');
      const sinceStep = requireInt(params, 'sinceStep', -1);
      return s.store.metrics.sinceForRun(runId, sinceStep).map(metricPoint);
    },

    'training:cancel': async (params) => {
      const runId = requireString(params, 'runId');
      const run = s.store.runs.require(runId);
      // Cancelling training cancels the run's current step only when that step is training.
      if (run.step !== 'train' || !s.runner.isActive(runId)) return { cancelled: false };
      return { cancelled: s.runner.cancel(runId) };
    },
  };
}
