/**
 * The audit, split and report steps: thin calls into datasets/ and reports/, plus the files
 * of the run folder (teacher_data.jsonl with flags and split, train.jsonl, val.jsonl).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditRun, exportRunData, splitRun, writeTeacherData } from '../../datasets';
import { modelSpecName } from '../../core/model-spec';
import {
  collectReportInput,
  writeReports,
  type DeploymentInput,
  type ReportImportedData,
} from '../../reports';
import { PipelineError, StepOrderError } from '../../core/errors';
import type { StepContext } from '../runner';
import type { PipelineServices } from '../services';
import { formatModelSpec } from '../../core/model-spec';
import { finalCheckpoint } from '../engine-training';
import { readImportedSource } from '../../datasets/imported-source';

export async function auditStep(studio: PipelineServices, ctx: StepContext): Promise<void> {
  const { store } = studio;
  const runId = ctx.run.id;
  const total = store.examples.countByRun(runId);
  if (total === 0) throw new StepOrderError('audit', 'teacher answers (run the generate step)');
  const persona = studio.personas.get(ctx.run.personaId, ctx.run.personaVersion);
  const summary = auditRun(store, runId, {
    keywords: persona.keywords,
    minWords: ctx.scale.audit.minWords,
    maxWords: ctx.scale.audit.maxWords,
    // Imported answers have no length budget of ours.
    ...(ctx.run.config.importedData
      ? {}
      : { maxNewTokens: ctx.scale.generation.maxNewTokens, dropTruncated: ctx.scale.audit.dropTruncated }),
  });
  writeTeacherData(ctx.paths.teacherData, store.examples.listByRun(runId));
  ctx.progress(total, total);
  ctx.log(
    `audit: kept ${summary.kept} of ${summary.total}; flagged ${JSON.stringify(summary.flagged)}; length budget ${ctx.scale.generation.maxNewTokens} new tokens (${summary.flagged.truncated ?? 0} answers cut off at it)`,
  );
  if (summary.kept === 0) {
    throw new PipelineError(
      `the audit kept none of the ${summary.total} teacher answers (flags: ${JSON.stringify(summary.flagged)}); see ${ctx.paths.teacherData}`,
      { runId, flagged: summary.flagged },
    );
  }
}

export async function splitStep(studio: PipelineServices, ctx: StepContext): Promise<void> {
  const { store } = studio;
  const runId = ctx.run.id;
  const counts = splitRun(store, runId, {
    seed: ctx.scale.generation.seed,
    valFraction: ctx.scale.valFraction,
  });
  if (counts.train === 0)
    throw new PipelineError('the split left no training examples', { runId, ...counts });
  const files = exportRunData(store, runId, ctx.paths.dir);
  ctx.progress(files.train + files.val, files.train + files.val);
  ctx.log(
    `split: ${files.train} train, ${files.val} val (held-out questions excluded) -> ${files.trainPath}`,
  );
}

/** Where the exported adapter of a run goes (PEFT folder + card + deploy example). */
export function exportDir(runDir: string): string {
  return join(runDir, 'export');
}

export async function reportStep(studio: PipelineServices, ctx: StepContext): Promise<void> {
  const { store, engine } = studio;
  const runId = ctx.run.id;
  const cfg = ctx.run.config;
  const cp = finalCheckpoint(studio, runId);
  const evaluation = store.evaluations.latest(runId);
  const savings = store.savings.latest(runId);
  ctx.progress(0, 3, 'exporting the adapter');

  // The adapter in PEFT format with its model card: what DEPLOYMENT.md tells the reader to load.
  let deployment: DeploymentInput | null = null;
  if (cp) {
    const persona = studio.personas.get(ctx.run.personaId, ctx.run.personaVersion);
    const out = exportDir(ctx.paths.dir);
    const exported = await engine.call(
      'export_adapter',
      {
        model: cfg.studentModel,
        adapter: cp.path,
        output_dir: out,
        merged: false,
        // The GGUF LoRA and Modelfile are small; the run's own export folder is replaced on a rerun.
        gguf: true,
        overwrite: true,
        card: {
          persona: persona.name,
          persona_id: persona.id,
          persona_version: persona.version,
          checkpoint_id: cp.id,
          run_id: runId,
          data_hash: cp.lineage.dataHash,
          metrics: cp.metrics,
          in_character_share: evaluation?.summary.inCharacterShare ?? null,
          gate: evaluation?.summary.gate ?? null,
        },
      },
      { signal: ctx.signal },
    );
    deployment = {
      personaName: persona.name,
      checkpointId: cp.id,
      adapterDir: exported.output_dir,
      baseModel: exported.base,
      mergedDir: exported.merged_dir,
      ggufLora: exported.gguf_lora,
      ggufModel: exported.gguf_model,
      baseGguf: exported.base_gguf ?? null,
      modelfile: exported.modelfile,
      files: exported.files,
      python: engine.pythonPath,
    };
  }
  ctx.progress(1, 3, 'writing the reports');

  // evaluation_results.json gains the savings measured after evaluation.
  if (existsSync(ctx.paths.evaluationResults)) {
    const data = JSON.parse(readFileSync(ctx.paths.evaluationResults, 'utf8')) as Record<string, unknown>;
    writeFileSync(ctx.paths.evaluationResults, `${JSON.stringify({ ...data, savings }, null, 2)}\n`);
  }
  const settings = studio.settings.all();
  const promotion =
    cp && evaluation?.checkpointId === cp.id ? promotionNote(cp.id, cp.state, evaluation.summary.gate) : null;
  const notes = [
    ...(promotion ? [promotion] : []),
    `Generated on this machine by \`character pipeline ${ctx.run.personaId} --scale ${ctx.run.scale}\`; ${
      cfg.importedData?.use === 'teacher'
        ? `the teacher's answers were imported from ${cfg.importedData.path}`
        : cfg.teacherProvider === 'openai'
          ? `the teacher answered through ${cfg.teacherEndpoint?.baseUrl ?? 'an OpenAI-compatible endpoint'}`
          : cfg.teacherProvider === 'tinker'
            ? `the teacher (${cfg.tinker?.teacherModel ?? '?'}) sampled on Tinker`
            : 'the teacher ran on the local engine'
    }; the student trained ${
      cfg.backend === 'tinker'
        ? `on Tinker (LoRA on ${cfg.tinker?.baseModel ?? '?'}; the adapter was pulled back)`
        : 'on the local engine'
    } and was evaluated on the local engine.`,
    ...(cfg.importedData?.use !== 'teacher' &&
    cfg.teacherModel.source === cfg.studentModel.source &&
    formatModelSpec(cfg.teacherModel) === formatModelSpec(cfg.studentModel)
      ? [
          'Teacher and student are the same base model: the teacher has the constitution in its prompt, the student does not (prompt distillation).',
        ]
      : []),
    ...(settings.judge ? [] : ['No LLM judge endpoint was configured, so no Elo ratings.']),
  ];
  const timings = store.runs.require(runId).timings;
  const input = collectReportInput(store, runId, {
    teacher: {
      provider: cfg.teacherProvider,
      model: cfg.teacherEndpoint ? cfg.teacherEndpoint.model : modelSpecName(cfg.teacherModel),
    },
    studentBase: modelSpecName(cfg.studentModel),
    generation: { examples: store.examples.countByRun(runId), wallSeconds: timings.generate ?? null },
    imported: importedForReport(ctx),
    notes,
  });
  // The report is the run's last act: it describes the run as it ends (completed).
  input.run = { ...input.run, status: 'completed', step: 'report', error: null };
  if (input.persona) {
    try {
      const persona = studio.personas.get(ctx.run.personaId, ctx.run.personaVersion);
      const counted = await engine.call(
        'count_tokens',
        { model: cfg.studentModel, texts: [persona.systemPrompt] },
        { signal: ctx.signal },
      );
      input.persona = { ...input.persona, promptTokens: counted.counts[0] ?? null };
    } catch {
      /* left as "not measured" */
    }
  }
  const written = writeReports(ctx.paths.dir, input, deployment);
  if (!deployment) ctx.log('no checkpoint: DEPLOYMENT.md not written');
  ctx.progress(3, 3, 'reports written');
  ctx.log(`reports: ${written.resultsPath}${written.deploymentPath ? `, ${written.deploymentPath}` : ''}`);
}

/** Where the run's imported data came from: imported_source.json, else (a run from before it) the config. */
function importedForReport(ctx: StepContext): ReportImportedData | null {
  const cfg = ctx.run.config.importedData;
  if (!cfg) return null;
  const src = readImportedSource(ctx.paths.dir);
  if (src) return { ...src };
  return {
    path: cfg.path,
    sha256: null,
    layout: cfg.format,
    use: cfg.use,
    pairs: null,
    taken: null,
    heldOut: null,
    skipped: null,
  };
}

/** Whether the evaluated checkpoint was promoted, and why (not). */
function promotionNote(
  id: string,
  state: 'candidate' | 'promoted' | 'archived',
  gate: { passed: boolean; reasons: string[] },
): string {
  if (gate.passed && state === 'promoted')
    return `Checkpoint ${id} passed the promotion gate and was promoted: chat, sample and serve-model use it.`;
  if (gate.passed) return `Checkpoint ${id} passed the promotion gate; it is ${state} now.`;
  const why = gate.reasons.find((r) => /does not|not measured|below/.test(r)) ?? gate.reasons.join('; ');
  return `Checkpoint ${id} was not promoted: ${why}.`;
}
