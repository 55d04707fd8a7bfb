/**
 * The robustness evaluation of a run (src-main/robustness/): part of the evaluate step, and
 * `character eval robustness <run>` on any finished run. Base and student with no prompt, the
 * teacher WITH the constitution (a local teacher only), and every stage of the character recipe,
 * at chat's sampling settings. Writes robustness.json and robustness_answers.jsonl in the run folder.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CHAT_SAMPLING } from '../../../src-shared/contract';
import {
  STUDENT_CONTEXT,
  type RobustnessSampling,
  type RobustnessSummary,
} from '../../../src-shared/robustness';
import { InvalidParamsError, StepOrderError } from '../../core/errors';
import { evaluationCacheDir, type RunPaths } from '../../core/paths';
import { openAnswerCache } from '../../evaluation/answer-cache';
import { evaluateRobustness, type RobustnessModel } from '../../robustness/evaluate';
import { personaMarkers } from '../../datasets/markers';
import { loadHeldOutRobustness } from '../../robustness/prompt-sets';
import type { RunRecord } from '../../store';
import { finalCheckpoint } from '../engine-training';
import { characterStages } from '../../evaluation/stage-checkpoints';
import type { PipelineServices } from '../services';

/** What users see: chat's defaults (temperature, top-p, length limit, anti-loop penalty), seeded. */
export const ROBUSTNESS_SAMPLING: Readonly<RobustnessSampling> = {
  temperature: DEFAULT_CHAT_SAMPLING.temperature,
  topP: DEFAULT_CHAT_SAMPLING.topP,
  maxTokens: DEFAULT_CHAT_SAMPLING.maxTokens,
  repetitionPenalty: DEFAULT_CHAT_SAMPLING.repetitionPenalty,
  seed: 0,
};

/**
 * The run's robustness files; a `tag` (a measurement at other sampling settings or of some models
 * only) gets files of its own, so the run's own figures are never overwritten by a trial.
 */
export function robustnessFiles(
  paths: Pick<RunPaths, 'dir'>,
  tag: string | null = null,
): { summary: string; answers: string } {
  const suffix = tag ? `-${tag}` : '';
  return {
    summary: join(paths.dir, `robustness${suffix}.json`),
    answers: join(paths.dir, `robustness_answers${suffix}.jsonl`),
  };
}

export interface RobustnessRunOptions {
  signal?: AbortSignal;
  progress?: (done: number, total: number, message: string) => void;
  /** Over chat's defaults (and the scale's length limit). */
  sampling?: Partial<RobustnessSampling>;
  /** Only these labels (base, teacher, student, a stage); all when absent. */
  models?: readonly string[];
  /** Files of their own (robustnessFiles); null: the run's robustness.json. */
  tag?: string | null;
}

export async function runRobustness(
  studio: PipelineServices,
  run: RunRecord,
  paths: RunPaths,
  opts: RobustnessRunOptions = {},
): Promise<RobustnessSummary> {
  const cp = finalCheckpoint(studio, run.id);
  if (!cp) throw new StepOrderError('robustness evaluation', 'a trained checkpoint (run the train step)');
  const cfg = run.config;
  const persona = studio.personas.get(run.personaId, run.personaVersion);
  const models: RobustnessModel[] = [{ label: 'base', checkpointId: null, model: cfg.studentModel }];
  // The teacher answers WITH the constitution; an endpoint or an imported file is not re-asked here.
  if (cfg.teacherProvider === 'local' && cfg.importedData?.use !== 'teacher')
    models.push({
      label: 'teacher',
      checkpointId: null,
      model: cfg.teacherModel,
      system: persona.systemPrompt,
    });
  models.push({ label: 'student', checkpointId: cp.id, model: cfg.studentModel, adapter: cp.path });
  for (const stage of characterStages(studio.store, run.id, cp))
    if (stage.checkpointId !== cp.id)
      models.push({
        label: stage.stage,
        checkpointId: stage.checkpointId,
        model: cfg.studentModel,
        adapter: stage.adapterPath,
      });
  const wanted = opts.models;
  if (wanted) {
    const unknown = wanted.filter((w) => !models.some((m) => m.label === w));
    if (unknown.length > 0)
      throw new InvalidParamsError(
        `no model labelled ${unknown.join(', ')} in run ${run.id} (it has ${models.map((m) => m.label).join(', ')})`,
        'models',
      );
  }
  const chosen = wanted ? models.filter((m) => wanted.includes(m.label)) : models;
  const heldOut = studio.store.questions.listByRun(run.id, { heldout: true }).map((q) => q.text);
  const answerCache = await openAnswerCache(studio.engine, evaluationCacheDir(studio.dataDir));
  const { summary, answers } = await evaluateRobustness(studio.engine, {
    answerCache,
    runId: run.id,
    checkpointId: cp.id,
    studentContext: STUDENT_CONTEXT,
    models: chosen,
    prompts: loadHeldOutRobustness(),
    heldOutQuestions: heldOut,
    markers: personaMarkers(persona.name, persona.keywords),
    classifierPath: existsSync(paths.classifier) ? paths.classifier : null,
    sampling: {
      ...ROBUSTNESS_SAMPLING,
      maxTokens: cfg.scaleConfig.evaluation.robustnessMaxTokens,
      ...opts.sampling,
    },
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
  });
  const files = robustnessFiles(paths, opts.tag ?? null);
  writeFileSync(files.summary, `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(files.answers, answers.map((a) => JSON.stringify(a)).join('\n') + '\n');
  return summary;
}
