/** `character pipeline`, the per-step commands (generate, audit, train, eval), `runs` and `report`. */
import { existsSync, readFileSync } from 'node:fs';
import { readUserTextFile } from '../../core/text-file';
import {
  PIPELINE_STEPS,
  type EvaluationSummary,
  type Interval,
  type PipelineStep,
  type SavingsSummary,
} from '../../../src-shared/contract';
import { estimateStep } from '../../runs/estimate';
import { ConfigError, NotFoundError, errorText } from '../../core/errors';
import { trainingOverridesFromYaml } from '../training-yaml';
import { formatDuration } from '../progress';
import { runPaths } from '../../core/paths';
import { isScale, scaleConfig } from '../../core/scales';
import type { Scale } from '../../../src-shared/contract';
import type { ModelSpec } from '../../../src-shared/engine-protocol';
import { checkTeacherContext } from '../../runs/context-check';
import { createRun } from '../../runs/create-run';
import { configureTraining } from '../../runs/configure-training';
import { TRAINING_FLAGS, trainingOverrides, type TrainingFlagValues } from '../training-flags';
import { isRecipe, RECIPES } from '../../core/run-config';
import { modelSpecName, parseModelSpec } from '../../core/model-spec';
import type { Studio } from '../../studio/studio';
import type { RunRecord } from '../../store';
import { CliUsageError, type CliContext, type CommandFn } from '../context';
import { parseCommandArgs } from '../args';
import { IMPORTED_DATA_FLAGS, importedDataOption } from '../data-flags';
import {
  anchorOverrides,
  CHARACTER_FLAGS,
  CHARACTER_TRAIN_FLAGS,
  characterOverrides,
  smokeChoice,
} from '../character-flags';
import {
  characterKeyLines,
  introspectionCountLine,
  reconfigureCharacter,
  runSmokeFirst,
} from './pipeline-character';
import { BACKEND_FLAGS, backendOption } from '../backend-flags';
import { EVALUATION_NLL } from '../../../src-shared/losses';

export interface RunOutcome {
  run: RunRecord;
  paths: ReturnType<typeof runPaths>;
  evaluation: EvaluationSummary | null;
  savings: SavingsSummary | null;
  wallSeconds: number;
}

export function runOutcome(studio: Studio, run: RunRecord, wallSeconds: number): RunOutcome {
  const evaluation = studio.store.evaluations.latest(run.id)?.summary ?? null;
  const savings = studio.store.savings.latest(run.id);
  return { run, paths: runPaths(studio.dataDir, run.id), evaluation, savings, wallSeconds };
}

const pct = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${(x * 100).toFixed(1)}%`;
const num = (x: number | null | undefined, digits = 3): string =>
  x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
const ci = (i: Interval | null | undefined, f: (x: number) => string): string =>
  i && Number.isFinite(i.low) && Number.isFinite(i.high) ? ` [${f(i.low)}, ${f(i.high)}]` : '';
const pctCi = (x: number | null | undefined, i: Interval | null | undefined): string =>
  `${pct(x)}${ci(i, (v) => (v * 100).toFixed(1))}`;

/** The key numbers, as the CLI and the demo print them (95% intervals in brackets). */
export function keyNumbers(o: RunOutcome): string[] {
  const lines = [
    `run         ${o.run.id} (${o.run.personaId} v${o.run.personaVersion}, ${o.run.scale}) ${o.run.status}`,
    `objective   ${o.run.config.scaleConfig.training.objective}`,
    `folder      ${o.paths.dir}`,
    `report      ${o.paths.resultsReport}`,
  ];
  const e = o.evaluation;
  if (e) {
    const d = e.distillation;
    const r = e.intervals;
    if (d) {
      lines.push(
        `KL(teacher || model) per token on ${d.answers} held-out teacher answers: student ${num(d.klStudent)}${ci(d.intervals.klStudent, (v) => num(v))}, base ${num(d.klBase)}${ci(d.intervals.klBase, (v) => num(v))}`,
        `captured    ${num(d.captured)}${ci(d.intervals.captured, (v) => num(v))}  (1 - KL student / KL base)`,
      );
    }
    lines.push(
      `in character (classifier, n=${e.n}): student ${pctCi(e.inCharacterShare.student, r?.inCharacterShare.student)}, teacher ${pctCi(e.inCharacterShare.teacher, r?.inCharacterShare.teacher)}, base ${pctCi(e.inCharacterShare.base, r?.inCharacterShare.base)}`,
    );
    if (r)
      lines.push(
        `student / teacher in-character share: ${pctCi(r.inCharacterVsTeacher.value, r.inCharacterVsTeacher.interval)}`,
      );
    lines.push(
      `similarity to teacher: difflib student ${num(e.difflib.student)} vs base ${num(e.difflib.base)}; cosine student ${num(e.cosine.student)} vs base ${num(e.cosine.base)}`,
      `keyword presence: student ${pctCi(e.keywordPresence.student, r?.keywordPresence.student)}, teacher ${pctCi(e.keywordPresence.teacher, r?.keywordPresence.teacher)}, base ${pctCi(e.keywordPresence.base, r?.keywordPresence.base)}`,
      `${EVALUATION_NLL.short} of the validation answers ${num(e.valLoss)} (end token counted after every answer), perplexity ${num(e.perplexity, 2)}`,
      `promotion gate: ${e.gate.passed ? 'PASSED' : 'not passed'} (${e.gate.score})${e.gate.reasons.length ? `: ${e.gate.reasons.join('; ')}` : ''}`,
      ...characterKeyLines(e),
    );
  }
  const s = o.savings;
  if (s) {
    lines.push(
      `prompt tokens per query: teacher ${s.promptTokensTeacher.toFixed(0)} -> student ${s.promptTokensStudent.toFixed(0)} (${pct(s.tokenReduction)} fewer)`,
      `latency: teacher ${s.latencyMsTeacher.toFixed(0)} ms -> student ${s.latencyMsStudent.toFixed(0)} ms (x${num(s.latencyRatio, 2)}); time to first token ${s.ttftMsTeacher.toFixed(0)} -> ${s.ttftMsStudent.toFixed(0)} ms`,
    );
  }
  lines.push(`wall time   ${o.wallSeconds.toFixed(1)} s`);
  return lines;
}

function requireRun(studio: Studio, id: string | undefined, command: string): RunRecord {
  if (!id) throw new CliUsageError(`${command}: name a run id (see character runs)`, command);
  const run = studio.store.runs.get(id);
  if (!run) throw new NotFoundError('run', id);
  return run;
}

/** The cost and time of the long steps, before they start (stderr). */
export function printEstimates(studio: Studio, run: RunRecord, ctx: CliContext): void {
  for (const step of ['generate', 'train'] as const) {
    try {
      const e = estimateStep(studio, run, step);
      ctx.note(
        `estimate ${step}: ~${formatDuration(e.seconds)}, ${e.tokens} tokens, $${e.costUsd.toFixed(4)} (${e.explanation})`,
      );
    } catch (error) {
      ctx.note(`estimate ${step}: not available (${errorText(error)})`);
    }
  }
  const introspection = introspectionCountLine(studio, run);
  if (introspection) ctx.note(introspection);
}

export const pipelineCommand: CommandFn = async (args, ctx) => {
  const { values, positionals } = parseCommandArgs('pipeline', args, {
    scale: { type: 'string', default: 'mini' },
    model: { type: 'string' },
    teacher: { type: 'string' },
    resume: { type: 'string' },
    steps: { type: 'string' },
    recipe: { type: 'string', default: 'distill' },
    ...TRAINING_FLAGS,
    ...IMPORTED_DATA_FLAGS,
    ...CHARACTER_FLAGS,
    ...BACKEND_FLAGS,
  });
  const started = performance.now();
  const studio = await ctx.open();
  let run: RunRecord;
  if (values.resume) {
    refuseUnhonoured(args, positionals, values.resume);
    run = requireRun(studio, values.resume, 'pipeline');
    ctx.note(`resuming ${run.id} (done: ${run.completedSteps.join(', ') || 'nothing'})`);
    run = await studio.runner.resume(run.id, { signal: ctx.abort.signal });
  } else {
    const persona = positionals[0];
    if (!persona)
      throw new CliUsageError('pipeline: name a persona, e.g. character pipeline beethoven --scale mini');
    const scale = values.scale ?? 'mini';
    if (!isScale(scale))
      throw new CliUsageError(`pipeline: unknown scale "${scale}": use smoke, mini or paper`);
    const studentModel = values.model ? parseModelSpec(values.model) : undefined;
    const teacherModel = values.teacher ? parseModelSpec(values.teacher) : studentModel;
    const training = trainingOverrides('pipeline', values);
    const recipe = values.recipe ?? 'distill';
    if (!isRecipe(recipe))
      throw new CliUsageError(`pipeline: unknown recipe "${recipe}": use ${RECIPES.join(' or ')}`);
    const importedData = importedDataOption(values, studio.personas.get(persona).name, ctx);
    const character = characterOverrides('pipeline', values);
    const options = {
      recipe,
      personaId: persona,
      scale,
      teacherModel,
      studentModel,
      training,
      ...(importedData ? { importedData } : {}),
      ...(character ? { character } : {}),
      ...backendOption('pipeline', values),
    };
    await checkContextFirst(studio, options, ctx);
    await runSmokeFirst(studio, options, smokeChoice('pipeline', values, scale), ctx);
    run = createRun(studio, options);
    ctx.note(`run ${run.id}: ${run.dir}`);
    printEstimates(studio, run, ctx);
    run = await studio.runner.run(run.id, { signal: ctx.abort.signal });
  }
  const outcome = runOutcome(studio, run, (performance.now() - started) / 1000);
  ctx.result(outcome);
  for (const line of keyNumbers(outcome)) ctx.print(line);
  return run.status === 'completed' ? 0 : 1;
};

export { trainingOverridesFromYaml } from '../training-yaml';

/**
 * A resume continues a run with the configuration it was created with: a persona, --scale,
 * --objective, --max-steps… given beside --resume were silently dropped. Refused, naming them.
 */
function refuseUnhonoured(args: string[], positionals: string[], runId: string): void {
  const flags = args
    .filter((a) => a.startsWith('--') && !a.startsWith('--resume'))
    .map((a) => a.split('=')[0] as string);
  const given = [...(positionals.length > 0 ? [`the persona "${positionals[0]}"`] : []), ...new Set(flags)];
  if (given.length > 0)
    throw new CliUsageError(
      `pipeline --resume ${runId}: ${given.join(', ')} cannot be applied: a resume continues the run with the configuration it was created with. Leave ${given.length > 1 ? 'them' : 'it'} out, or retrain with other settings: character train ${runId} --max-steps N --objective O (or --config FILE)`,
      'pipeline',
    );
}

/** The teacher's prompt against its context, before any run exists (context-check.ts). */
async function checkContextFirst(
  studio: Studio,
  o: {
    personaId: string;
    scale: Scale;
    teacherModel?: ModelSpec | undefined;
    studentModel?: ModelSpec | undefined;
    backend?: string | undefined;
  },
  ctx: CliContext,
): Promise<void> {
  const settings = studio.settings.all();
  // An endpoint's or Tinker's context is not known here.
  if (settings.teacherProvider === 'openai' || o.backend === 'tinker') return;
  const teacher = o.teacherModel ?? o.studentModel ?? settings.teacherModel;
  const fit = await checkTeacherContext(
    studio.engine,
    teacher,
    modelSpecName(teacher),
    studio.personas.get(o.personaId).systemPrompt,
    scaleConfig(o.scale).generation.maxNewTokens,
  );
  if (fit) ctx.note(`context: the teacher's prompt needs up to ${fit.needed} of ${fit.context} tokens`);
}

/** One step of an existing run: `character train <run> [--config training_config.yaml]` etc. */
export function stepCommand(step: PipelineStep): CommandFn {
  return async (args, ctx) => {
    const { positionals, values } = parseCommandArgs(step, args, {
      ...(step === 'train'
        ? { config: { type: 'string' as const }, ...TRAINING_FLAGS, ...CHARACTER_TRAIN_FLAGS }
        : {}),
    });
    // Flags are checked before the data folder opens: a bad value fails the same with any run.
    const flags = values as TrainingFlagValues & {
      config?: string;
      'dpo-kd-weight'?: string;
      anchor?: string;
    };
    const fromFlags = step === 'train' ? trainingOverrides(step, flags) : {};
    const studio = await ctx.open();
    let run0 = requireRun(studio, positionals[0], step);
    // Nothing of a run another process is running changes, not even its configuration.
    await studio.store.owners.assertFree(run0.id);
    if (flags.config || Object.keys(fromFlags).length > 0) {
      const current = run0.config.scaleConfig.training;
      const fromFile = flags.config
        ? trainingOverridesFromYaml(
            readUserTextFile(flags.config, 'the training configuration').text,
            flags.config,
          )
        : {};
      if (fromFile.baseModel !== undefined && fromFile.baseModel !== current.baseModel)
        throw new ConfigError(
          `${flags.config}: model.base_model is ${fromFile.baseModel}, but run ${run0.id} trains ${current.baseModel}; a run's base model cannot change (create a run with --model)`,
          'model.base_model',
        );
      run0 = configureTraining(studio, run0, { ...current, ...fromFile, ...fromFlags });
      if (flags.config) ctx.note(`training configuration from ${flags.config}`);
    }
    if (step === 'train') run0 = reconfigureCharacter(studio, run0, anchorOverrides(step, flags));
    if (step === 'train') retrainNote(studio, run0, ctx);
    const started = performance.now();
    const run = await studio.runner.runStep(run0.id, step, { signal: ctx.abort.signal });
    const outcome = runOutcome(studio, run, (performance.now() - started) / 1000);
    ctx.result(outcome);
    ctx.print(
      `${step} done for ${run.id}: status ${run.status}; completed steps: ${run.completedSteps.join(', ')}`,
    );
    if (step === 'evaluate') for (const line of keyNumbers(outcome)) ctx.print(line);
    return 0;
  };
}

/** Training a run that has trained: what is kept and what is made, said before it starts. */
function retrainNote(studio: Studio, run: RunRecord, ctx: CliContext): void {
  const jobs = studio.store.jobs.listByRun(run.id);
  if (!run.completedSteps.includes('train') && jobs.length === 0) return;
  const checkpoints = studio.store.checkpoints.list({ runId: run.id });
  const later = run.completedSteps.filter((s) => PIPELINE_STEPS.indexOf(s) > PIPELINE_STEPS.indexOf('train'));
  ctx.note(
    `${run.id} has trained before (${jobs.length} training job(s), ${checkpoints.length} checkpoint(s)): this starts a new training job; the earlier jobs, their checkpoints and the promoted checkpoint are kept` +
      (later.length > 0
        ? `; ${later.join(', ')} will need to run again (character pipeline --resume ${run.id})`
        : ''),
  );
}

export const runsCommand: CommandFn = async (args, ctx) => {
  parseCommandArgs('runs', args, {});
  const studio = await ctx.open();
  // Summaries: listing must work even when one stored configuration is malformed.
  const runs = studio.store.runs.summaries();
  ctx.result(runs);
  if (runs.length === 0) ctx.print('no runs yet: character pipeline beethoven --scale mini');
  for (const r of runs) {
    ctx.print(
      `${r.id}  ${r.status.padEnd(9)} ${(r.step ?? '').padEnd(8)} ${r.error ? `error: ${r.error}` : ''}`,
    );
  }
  return 0;
};

export const reportCommand: CommandFn = async (args, ctx: CliContext) => {
  const { values, positionals } = parseCommandArgs('report', args, { print: { type: 'boolean' } });
  const studio = await ctx.open();
  const run = requireRun(studio, positionals[0], 'report');
  const outcome = runOutcome(
    studio,
    run,
    Object.values(run.timings).reduce((a, b) => a + b, 0),
  );
  const exists = existsSync(outcome.paths.resultsReport);
  ctx.result({ ...outcome, reportExists: exists });
  if (values.print && exists) ctx.print(readFileSync(outcome.paths.resultsReport, 'utf8'));
  else for (const line of keyNumbers(outcome)) ctx.print(line);
  if (!exists) ctx.note(`no RESULTS_REPORT.md yet for ${run.id} (the report step has not run)`);
  return exists ? 0 : 1;
};
