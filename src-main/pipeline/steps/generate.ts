/**
 * The questions and generate steps.
 *
 * questions: a seeded, category-balanced set from the persona's templates, with a stratified
 * held-out part that never reaches training (stored with the run; re-running keeps ids).
 *
 * generate: the teacher (a provider: the local engine or an OpenAI-compatible endpoint) answers
 * every question WITH the constitution. Answers are stored batch by batch as they arrive, so
 * a crash loses at most the batch in flight, and a resume skips questions already answered
 * (the store's UNIQUE(run, question) makes a duplicate impossible even if a batch is replayed).
 */
import { writeFileSync } from 'node:fs';
import { writeTeacherData } from '../../datasets';
import { createTeacherProvider, type TeacherProvider } from '../../providers';
import { generateQuestionSet } from '../../questions/generate';
import { CancelledError, PipelineError, StepOrderError } from '../../core/errors';
import { topkFile } from '../../core/paths';
import type { QuestionRecord } from '../../store';
import type { StepContext } from '../runner';
import type { PipelineServices } from '../services';
import { tinkerTeacher } from '../tinker';

/** A run's questions: in the store, questions.jsonl, and the held-out ones in heldout.jsonl. */
export function saveQuestions(studio: PipelineServices, ctx: StepContext, questions: QuestionRecord[]): void {
  studio.store.questions.insertMany(ctx.run.id, questions);
  writeFileSync(ctx.paths.questions, questions.map((q) => JSON.stringify(q)).join('\n') + '\n');
  writeFileSync(
    ctx.paths.heldOut,
    questions
      .filter((q) => q.heldout)
      .map((q) => JSON.stringify({ id: q.id, category: q.category, question: q.text }))
      .join('\n') + '\n',
  );
}

export async function questionsStep(studio: PipelineServices, ctx: StepContext): Promise<void> {
  const { store } = studio;
  const sc = ctx.scale;
  const existing = store.questions.countByRun(ctx.run.id);
  if (existing > 0) {
    ctx.log(`questions already stored (${existing}); keeping them so answers stay matched`);
    ctx.progress(existing, existing);
    return;
  }
  const { questions, stats } = generateQuestionSet({
    persona: ctx.run.personaId,
    count: sc.questions - sc.heldOut,
    heldoutCount: sc.heldOut,
    seed: sc.generation.seed,
  });
  if (questions.length === 0)
    throw new PipelineError(`no questions could be generated for ${ctx.run.personaId}`);
  saveQuestions(studio, ctx, questions);
  ctx.log(
    `questions: ${stats.produced} (${stats.heldout} held out), categories ${JSON.stringify(stats.byCategory)}, shortfall ${stats.shortfall}`,
  );
  ctx.progress(questions.length, questions.length);
}

export function teacherProvider(studio: PipelineServices, ctx: StepContext): TeacherProvider {
  const cfg = ctx.run.config;
  if (cfg.teacherProvider === 'tinker') return tinkerTeacher(studio, ctx);
  const settings = studio.settings.all();
  return createTeacherProvider({
    endpoint: cfg.teacherProvider === 'openai' ? settings.openai : null,
    engine: studio.engine,
    localModel: cfg.teacherModel,
    chunkSize: ctx.scale.generation.batchSize,
  });
}

export async function generateStep(studio: PipelineServices, ctx: StepContext): Promise<void> {
  const { store } = studio;
  const runId = ctx.run.id;
  const questions = store.questions.listByRun(runId);
  if (questions.length === 0) throw new StepOrderError('generate', 'questions (run the questions step)');
  const persona = studio.personas.get(ctx.run.personaId, ctx.run.personaVersion);
  const answered = store.examples.existingQuestionIds(runId);
  const todo = questions.filter((q) => !answered.has(q.id));
  const total = questions.length;
  const gen = ctx.scale.generation;
  const provider = teacherProvider(studio, ctx);
  if (answered.size > 0) ctx.log(`resuming generation: ${answered.size} of ${total} already answered`);
  // The teacher's token distributions, for kd: captured whenever the teacher can give them.
  const capture = gen.topK > 0 && provider.capturesDistributions;
  if (gen.topK > 0 && !capture)
    ctx.log(`${provider.model} cannot give token distributions: none captured (kd will not be available)`);
  ctx.progress(answered.size, total, `teacher ${provider.model}`);
  let done = answered.size;
  // One batch per provider call: stored in one transaction as soon as it returns.
  for (let start = 0; start < todo.length; start += gen.batchSize) {
    if (ctx.signal.aborted)
      throw new CancelledError(`generation cancelled after ${done} of ${total} answers`);
    const batch = todo.slice(start, start + gen.batchSize);
    const outputs = await provider.generate(
      batch.map((q) => ({
        system: persona.systemPrompt,
        messages: [{ role: 'user', content: q.text }],
        ...(capture ? { topkPath: topkFile(ctx.paths, q.id) } : {}),
      })),
      {
        temperature: gen.temperature,
        top_p: gen.topP,
        max_new_tokens: gen.maxNewTokens,
        seed: gen.seed + start,
      },
      {
        signal: ctx.signal,
        onProgress: (p) => ctx.progress(done + p.done, total, `teacher ${provider.model}`),
        ...(capture ? { captureTopK: gen.topK } : {}),
      },
    );
    const added = store.examples.insertMany(
      runId,
      batch.map((q, i) => {
        const o = outputs[i];
        if (!o)
          throw new PipelineError(`teacher returned ${outputs.length} answers for ${batch.length} questions`);
        return {
          questionId: q.id,
          answer: o.text.trim(),
          promptTokens: o.promptTokens ?? 0,
          completionTokens: o.completionTokens ?? 0,
          provider: provider.name,
          model: provider.model,
          latencyMs: o.latencyMs,
          thinking: o.thinking === true,
        };
      }),
    );
    done += added;
    ctx.progress(done, total, `teacher ${provider.model}`);
  }
  writeTeacherData(ctx.paths.teacherData, store.examples.listByRun(runId));
  ctx.log(`generated ${todo.length} answers (${total} in all)`);
}
