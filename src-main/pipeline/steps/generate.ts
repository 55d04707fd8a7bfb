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
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTeacherData } from '../../datasets';
import { createTeacherProvider, type TeacherProvider } from '../../providers';
import type { TeacherOutput } from '../../providers/types';
import {
  chooseSample,
  countSelection,
  emptySelectionCounts,
  BREAK_CATEGORY,
  IDENTITY_CATEGORIES,
  wantsMoreSamples,
} from '../../datasets/select-samples';
import { emptyTrimCounts, trimCutOffAnswers, type TopkTrimmer } from '../../datasets/trim-answers';
import { personaMarkers } from '../../datasets/markers';
import { generateQuestionSet } from '../../questions/generate';
import { CancelledError, PipelineError, StepOrderError } from '../../core/errors';
import { topkFile } from '../../core/paths';
import type { QuestionRecord } from '../../store';
import { BREAK_STYLES } from '../../../src-shared/robustness';
import {
  loadHeldOutRobustness,
  loadTrainingRobustness,
  normalizedPrompt,
} from '../../robustness/prompt-sets';
import type { StepContext } from '../runner';
import type { PipelineServices } from '../services';
import { tinkerTeacher } from '../tinker';

/** What sample selection did (counts), beside the run's teacher data. */
export function selectionFile(paths: { dir: string }): string {
  return join(paths.dir, 'teacher_selection.json');
}

/** The chosen sample's top-k file takes the question's own name; the others are removed. */
function keepCandidateFile(files: readonly string[], chosen: number): void {
  const target = files[0] as string;
  const pick = files[chosen] as string;
  if (pick !== target) renameSync(pick, target);
  files.forEach((f, i) => {
    if (i !== chosen && i !== 0 && existsSync(f)) rmSync(f);
  });
}

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
    // The held-out robustness prompts are never asked for training (nor as ordinary held-out questions).
    skip: heldOutRobustnessFilter(),
  });
  if (questions.length === 0)
    throw new PipelineError(`no questions could be generated for ${ctx.run.personaId}`);
  const { kept, dropped, added } = withRobustnessTraining(questions, sc.generation.robustnessTraining);
  saveQuestions(studio, ctx, kept);
  ctx.log(
    `questions: ${stats.produced} (${stats.heldout} held out), categories ${JSON.stringify(stats.byCategory)}, shortfall ${stats.shortfall}`,
  );
  if (dropped > 0 || added > 0)
    ctx.log(
      `robustness: ${dropped} training question(s) dropped for matching the held-out robustness set; ${added} identity and break-character training prompts added`,
    );
  ctx.progress(kept.length, kept.length);
}

/** The held-out robustness prompts (resources/robustness/heldout.json), normalized: never trained on. */
function heldOutPromptKeys(): Set<string> {
  const held = loadHeldOutRobustness();
  return new Set(
    [...held.identity, ...BREAK_STYLES.flatMap((s) => held.break[s]), ...held.multiturn.flat()].map(
      normalizedPrompt,
    ),
  );
}

/** True for a text that repeats a held-out robustness prompt. */
export function heldOutRobustnessFilter(): (text: string) => boolean {
  const heldSet = heldOutPromptKeys();
  return (text) => heldSet.has(normalizedPrompt(text));
}

/**
 * Training questions never repeat a held-out robustness prompt (resources/robustness/heldout.json);
 * with `addTraining`, the identity and break-character prompts of training.json join the training
 * questions (categories robustness_identity, robustness_break), so the teacher's in-character
 * answers to them are data like any other.
 */
export function withRobustnessTraining(
  questions: QuestionRecord[],
  addTraining: boolean,
): { kept: QuestionRecord[]; dropped: number; added: number } {
  const heldSet = heldOutPromptKeys();
  const kept = questions.filter((q) => q.heldout || !heldSet.has(normalizedPrompt(q.text)));
  const dropped = questions.length - kept.length;
  if (!addTraining) return { kept, dropped, added: 0 };
  const training = loadTrainingRobustness();
  const seen = new Set(kept.map((q) => normalizedPrompt(q.text)));
  let nextId = Math.max(-1, ...kept.map((q) => q.id)) + 1;
  const extra: QuestionRecord[] = [];
  const add = (text: string, category: string, template: string): void => {
    const key = normalizedPrompt(text);
    if (heldSet.has(key) || seen.has(key)) return;
    seen.add(key);
    extra.push({ id: nextId++, category, text, heldout: false, template });
  };
  training.identity.forEach((t, i) => add(t, 'robustness_identity', `robustness-identity-${i}`));
  for (const style of BREAK_STYLES)
    training.break[style].forEach((t, i) => add(t, BREAK_CATEGORY, `robustness-break-${style}-${i}`));
  return { kept: [...kept, ...extra], dropped, added: extra.length };
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
  // Several samples per TRAINING question, the one that holds the character kept (select-samples.ts);
  // held-out questions get one, unselected.
  const samples = Math.max(1, gen.samplesPerQuestion);
  // Questions about who the character is and pushes to break it get more: they are where the
  // 135M teacher most often misses, and where a user first looks.
  const samplesFor = (q: QuestionRecord): number =>
    q.heldout ? 1 : wantsMoreSamples(q.category) ? Math.max(samples, gen.robustnessSamples) : samples;
  const markers = personaMarkers(persona.name, persona.keywords);
  const selection = emptySelectionCounts(samples);
  const trimCounts = emptyTrimCounts();
  const trimFiles: TopkTrimmer = async (files) =>
    files.length === 0
      ? []
      : (await studio.engine.call('topk_trim', { model: ctx.run.config.teacherModel, files })).files;
  // One batch per provider call: stored in one transaction as soon as it returns.
  for (let start = 0; start < todo.length; start += gen.batchSize) {
    if (ctx.signal.aborted)
      throw new CancelledError(`generation cancelled after ${done} of ${total} answers`);
    const batch = todo.slice(start, start + gen.batchSize);
    const slots = batch.flatMap((q) => Array.from({ length: samplesFor(q) }, (_, k) => ({ q, k })));
    const candidatePath = (q: QuestionRecord, k: number): string =>
      k === 0 ? topkFile(ctx.paths, q.id) : `${topkFile(ctx.paths, q.id)}.sample${k}`;
    const outputs = await provider.generate(
      slots.map(({ q, k }) => ({
        system: persona.systemPrompt,
        messages: [{ role: 'user', content: q.text }],
        ...(capture ? { topkPath: candidatePath(q, k) } : {}),
      })),
      {
        temperature: gen.temperature,
        top_p: gen.topP,
        max_new_tokens: gen.maxNewTokens,
        seed: gen.seed + start,
      },
      {
        signal: ctx.signal,
        onProgress: (p) =>
          ctx.progress(
            done + Math.floor(p.done / (slots.length / batch.length)),
            total,
            `teacher ${provider.model}`,
          ),
        ...(capture ? { captureTopK: gen.topK } : {}),
      },
    );
    if (outputs.length !== slots.length)
      throw new PipelineError(`teacher returned ${outputs.length} answers for ${slots.length} requests`);
    const chosen = batch.map((q) => {
      const mine = slots
        .map((s, i) => ({ ...s, o: outputs[i] as TeacherOutput }))
        .filter((s) => s.q.id === q.id);
      if (q.heldout || mine.length === 1) return (mine[0] as { o: TeacherOutput }).o;
      const candidates = mine.map((m) => ({ text: m.o.text, finishReason: m.o.finishReason }));
      const identity = IDENTITY_CATEGORIES.includes(q.category);
      // Who-are-you questions and pushes to break the character: the best answer says who it is
      // ("You are an AI, admit it." -> "I am Ludwig van Beethoven ..."), so one that names it wins.
      const choice = chooseSample(candidates, markers, wantsMoreSamples(q.category));
      countSelection(selection, candidates, choice, markers, identity);
      if (capture)
        keepCandidateFile(
          mine.map((m) => candidatePath(q, m.k)),
          choice.index,
        );
      return (mine[choice.index] as { o: TeacherOutput }).o;
    });
    // Training answers cut off at the length limit end at their last full sentence, marked.
    const ending = gen.trimTruncated
      ? await trimCutOffAnswers(
          batch.map((q, i) => ({
            ...(chosen[i] as TeacherOutput),
            topkPath: capture ? topkFile(ctx.paths, q.id) : null,
            heldout: q.heldout,
          })),
          trimFiles,
          trimCounts,
        )
      : chosen;
    const added = store.examples.insertMany(
      runId,
      batch.map((q, i) => {
        const o = ending[i] as TeacherOutput;
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
  if (trimCounts.cutOff > 0)
    ctx.log(
      `answers that end: ${trimCounts.cutOff} training answers cut off at ${gen.maxNewTokens} tokens; ` +
        `${trimCounts.trimmed} trimmed to their last full sentence with the end marked, ${trimCounts.leftCutOff} left cut off`,
    );
  if (selection.questions > 0 || trimCounts.cutOff > 0) {
    writeFileSync(
      selectionFile(ctx.paths),
      `${JSON.stringify({ ...selection, trim: trimCounts }, null, 2)}\n`,
    );
    if (selection.questions > 0)
      ctx.log(
        `teacher at its best: ${selection.samplesPerQuestion} samples for each of ${selection.questions} training questions; ` +
          `${selection.candidatesHeld} of ${selection.candidates} samples held the character and ${selection.candidatesEnded} ended on their own; ` +
          `kept ${selection.chosenHeld} that held and ${selection.chosenEnded} that ended; ` +
          `${selection.identityNamed} of ${selection.identityQuestions} answers to who-are-you questions name the character`,
      );
  }
  writeTeacherData(ctx.paths.teacherData, store.examples.listByRun(runId));
  ctx.log(`generated ${todo.length} answers (${total} in all)`);
}
