/**
 * `character eval`: with a run id, the evaluate step of that run (as before); otherwise the
 * evaluation tools of Open Character Studio on files and models:
 *   eval classifier --train A.jsonl --eval B.jsonl [--out FILE]   the in-character classifier
 *   eval elo matches.jsonl [--judge local|M] [--persona ID]      Elo from pairwise matches
 *   eval revealed-preferences <model> [--persona ID] [--checkpoint ID] [--with-constitution]
 *   eval robustness <run>   how the run's character holds (identity, break-character, multi-turn)
 */
import { MAX_ELO_K } from '../../core/limits';
import { numberFlag } from '../number-flag';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../../core/errors';
import { parseJsonl } from '../../core/jsonl';
import { formatModelSpec, parseModelSpec } from '../../core/model-spec';
import { eloRatings, type PairwiseJudgement } from '../../evaluation/elo';
import { classifierExamples, eloMatches, records } from '../../evaluation/eval-files';
import { shareInterval } from '../../evaluation/intervals';
import { judgeLocally } from '../../evaluation/judge-local';
import { revealedPreferences, type RevealedModel } from '../../evaluation/revealed-preferences';
import { constitutionTraits, revealedTraits } from '../../evaluation/traits';
import { parseCommandArgs } from '../args';
import { CliUsageError, type CliContext, type CommandFn } from '../context';
import { robustnessCommand } from './eval-robustness';
import { stepCommand } from './pipeline';

export const EVAL_SUBCOMMANDS = ['classifier', 'elo', 'revealed-preferences', 'robustness'] as const;

function readRows(path: string): { line: number; value: unknown }[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      path,
    });
  }
  const { rows, lines, errors } = parseJsonl(text);
  const bad = errors[0];
  if (bad) throw new InputError(`${path}:${bad.line}: not JSON (${bad.message})`, { path, line: bad.line });
  return rows.map((value, i) => ({ line: lines[i] as number, value }));
}

const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : 'n/a');

async function classifierCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('eval classifier', args, {
    train: { type: 'string' },
    eval: { type: 'string' },
    out: { type: 'string' },
  });
  if (!values.train || !values.eval)
    throw new CliUsageError('eval classifier: give --train A.jsonl and --eval B.jsonl', 'eval');
  const train = classifierExamples(readRows(values.train), values.train);
  const held = classifierExamples(readRows(values.eval), values.eval);
  const studio = await ctx.open();
  const out = values.out ?? join(studio.dataDir, 'classifiers', `classifier-${Date.now()}.joblib`);
  mkdirSync(dirname(out), { recursive: true });
  const fit = await studio.engine.call(
    'classifier_fit',
    { texts: train.map((e) => e.text), labels: train.map((e) => e.label), save_path: out, seed: 0 },
    { signal: ctx.abort.signal },
  );
  const { probs } = await studio.engine.call(
    'classifier_predict',
    { path: out, texts: held.map((e) => e.text) },
    { signal: ctx.abort.signal },
  );
  const predicted = probs.map((p) => (p >= 0.5 ? 1 : 0));
  const correct = held.map((e, i) => predicted[i] === e.label);
  const tp = held.filter((e, i) => e.label === 1 && predicted[i] === 1).length;
  const result = {
    classifier: out,
    train: { n: fit.n, accuracy: fit.train_accuracy, cvAccuracy: fit.cv_accuracy },
    eval: {
      n: held.length,
      accuracy: correct.filter(Boolean).length / held.length,
      accuracyInterval: shareInterval(correct),
      precision: tp / Math.max(1, predicted.filter((p) => p === 1).length),
      recall: tp / Math.max(1, held.filter((e) => e.label === 1).length),
      inCharacterShare: predicted.filter((p) => p === 1).length / held.length,
    },
  };
  ctx.result(result);
  const e = result.eval;
  ctx.print(
    `classifier  ${out} (fitted on ${fit.n} texts, train accuracy ${pct(fit.train_accuracy)}, cross-validated ${fit.cv_accuracy === null ? 'n/a' : pct(fit.cv_accuracy)})`,
  );
  ctx.print(
    `eval (n=${e.n}): accuracy ${pct(e.accuracy)} [${pct(e.accuracyInterval.low)}, ${pct(e.accuracyInterval.high)}], precision ${pct(e.precision)}, recall ${pct(e.recall)}, judged in character ${pct(e.inCharacterShare)}`,
  );
  return 0;
}

async function eloCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('eval elo', args, {
    judge: { type: 'string' },
    persona: { type: 'string' },
    k: { type: 'string' },
  });
  const file = positionals[0];
  if (!file) throw new CliUsageError('eval elo: give a matches file (JSON Lines)', 'eval');
  const matches = eloMatches(readRows(file), file);
  const undecided = matches.filter((m) => m.winner === null);
  if (undecided.length > 0) {
    if (!values.judge)
      throw new CliUsageError(
        `eval elo: ${undecided.length} match(es) have no winner (first at ${file}:${undecided[0]?.line}); add --judge local (the settings' teacher model) or --judge M (a model) to judge them with the engine`,
        'eval',
      );
    const studio = await ctx.open();
    const spec =
      values.judge === 'local' ? studio.settings.get('teacherModel') : parseModelSpec(values.judge);
    const persona = values.persona ? studio.personas.get(values.persona) : null;
    ctx.note(`judging ${undecided.length} match(es) with ${formatModelSpec(spec)}, both orders each`);
    const verdicts = await judgeLocally(
      studio.engine,
      {
        model: spec,
        character: persona?.name ?? 'the character',
        ...(persona ? { constitution: persona.systemPrompt } : {}),
      },
      undecided.map((m) => ({
        question: m.prompt ?? '',
        a: { player: m.a, answer: m.answers?.a ?? '' },
        b: { player: m.b, answer: m.answers?.b ?? '' },
      })),
      ctx.abort.signal,
    );
    undecided.forEach((m, i) => {
      const v = verdicts[i];
      m.winner = v === 'A' ? 'a' : v === 'B' ? 'b' : 'tie';
    });
  }
  const judgements: PairwiseJudgement[] = matches.map((m) => ({ a: m.a, b: m.b, winner: m.winner ?? 'tie' }));
  const k = values.k !== undefined ? numberFlag('eval elo', 'k', values.k, { min: 1, max: MAX_ELO_K }) : 32;
  const ratings = eloRatings(judgements, { k });
  const record = records(judgements);
  const table = Object.entries(ratings)
    .sort((x, y) => y[1] - x[1])
    .map(([player, elo]) => ({ player, elo, ...record[player] }));
  ctx.result({ matches: matches.length, judged: undecided.length, ratings: table });
  ctx.print(`Elo over ${matches.length} matches (K ${k}, averaged over 200 seeded orders):`);
  for (const r of table)
    ctx.print(
      `${r.player.padEnd(20)} ${r.elo.toFixed(1).padStart(7)}   ${r.wins ?? 0} won, ${r.losses ?? 0} lost, ${r.ties ?? 0} tied`,
    );
  return 0;
}

async function revealedCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('eval revealed-preferences', args, {
    persona: { type: 'string', default: 'beethoven' },
    checkpoint: { type: 'string' },
    'with-constitution': { type: 'boolean' },
  });
  const studio = await ctx.open();
  const checkpoint = values.checkpoint ? studio.registry.info(values.checkpoint) : null;
  const spec = positionals[0] ? parseModelSpec(positionals[0]) : studio.settings.get('studentModel');
  const persona = studio.personas.get(values.persona ?? 'beethoven');
  const traits = revealedTraits(constitutionTraits(persona));
  if (!traits.some((t) => t.source === 'constitution'))
    throw new InputError(`${persona.id} names no traits: add a traits: list to its constitution`);
  const model: RevealedModel = {
    role: checkpoint ? 'student' : values['with-constitution'] ? 'teacher' : 'base',
    model: spec,
    ...(checkpoint ? { adapter: checkpoint.path } : {}),
    ...(values['with-constitution'] ? { system: persona.systemPrompt } : {}),
  };
  ctx.note(
    `revealed preferences of ${formatModelSpec(spec)}${checkpoint ? ` + ${checkpoint.id}` : ''}${model.system ? ' WITH the constitution' : ''} over ${traits.length} traits of ${persona.id}`,
  );
  const summary = await revealedPreferences({
    engine: studio.engine,
    traits,
    models: [model],
    signal: ctx.abort.signal,
  });
  ctx.result(summary);
  const elo = summary.elo[model.role] ?? {};
  const share = summary.constitutionShare[model.role];
  ctx.print(`${summary.choices[model.role] ?? 0} choices; ${summary.method}`);
  for (const t of [...traits].sort((a, b) => (elo[b.trait] ?? 0) - (elo[a.trait] ?? 0)))
    ctx.print(`${t.trait.padEnd(16)} ${(elo[t.trait] ?? NaN).toFixed(1).padStart(7)}  (${t.source})`);
  if (share)
    ctx.print(
      `constitution trait chosen over a contrasting one: ${pct(share.value)} [${pct(share.interval.low)}, ${pct(share.interval.high)}] of ${share.n} pairs`,
    );
  return 0;
}

export const evalCommand: CommandFn = async (args, ctx) => {
  const [sub, ...rest] = args;
  if (sub === 'classifier') return classifierCommand(rest, ctx);
  if (sub === 'elo') return eloCommand(rest, ctx);
  if (sub === 'revealed-preferences') return revealedCommand(rest, ctx);
  if (sub === 'robustness') return robustnessCommand(rest, ctx);
  // Anything else is a run id: the evaluate step of that run.
  return stepCommand('evaluate')(args, ctx);
};
