/**
 * RESULTS_REPORT.md from typed inputs. No number is invented: every figure comes from the
 * inputs, and a section whose input is missing says "not measured".
 */
import { evaluationSection } from './evaluation-section';
import { robustnessSection } from './robustness-section';
import { isNum, NOT_MEASURED, num, pct, pctCi, table } from './format';
import type {
  AuditSummary,
  EvaluationItemRow,
  EvaluationSummary,
  PairwiseSummary,
  ReviewSummary,
  RunSummary,
  SavingsSummary,
  TrainingConfig,
  TrainingObjective,
} from '../../src-shared/contract';
import {
  DEFAULT_OBJECTIVE,
  DEFAULT_OBJECTIVE_REASON,
  TRAINING_OBJECTIVE_INFO,
} from '../../src-shared/contract';
import { EVALUATION_NLL, LOSS_NAMES, lossKindOf } from '../../src-shared/losses';

export { NOT_MEASURED, num, pct };

/** Where a run's imported data came from (the run folder's imported_source.json). */
export interface ReportImportedData {
  path: string;
  /** sha256 of the original file as the run read it; null for a run from before it was recorded. */
  sha256: string | null;
  layout: string;
  use: 'teacher' | 'questions';
  /** Pairs in the file, taken by the run, held out of those; lines that were no pair. */
  pairs: number | null;
  taken: number | null;
  heldOut: number | null;
  skipped: number | null;
}

export interface ResultsReportInput {
  run: RunSummary;
  persona?: {
    id: string;
    name: string;
    version: number;
    wordCount: number;
    promptTokens?: number | null;
  } | null;
  teacher?: { provider: string; model: string } | null;
  /** The student's base model, as the user named it. */
  studentBase?: string | null;
  questions?: { total: number; heldout: number; byCategory: Record<string, number> } | null;
  generation?: { examples: number; wallSeconds?: number | null; tokensPerS?: number | null } | null;
  audit?: AuditSummary | null;
  split?: { train: number; val: number } | null;
  training?: {
    config: TrainingConfig;
    /** The job's kind (the character recipe's DPO stage is 'dpo'); absent: the config's objective. */
    kind?: TrainingObjective | 'dpo';
    steps: number;
    /** The objective's own loss (src-shared/losses.ts names it). */
    firstTrainLoss?: number | null;
    finalTrainLoss: number | null;
    finalValLoss: number | null;
    /** kd: the training loop's validation NLL of the stored answer tokens, beside the kd loss. */
    finalValNll?: number | null;
    wallSeconds?: number | null;
    checkpointId?: string | null;
  } | null;
  evaluation?: { summary: EvaluationSummary; items: readonly EvaluationItemRow[] } | null;
  savings?: (SavingsSummary & { trainingCostUsd?: number; savingPerQuery?: number }) | null;
  review?: ReviewSummary | null;
  /** The newest pairwise A/B sheet with a judged pair (student against teacher). */
  pairwise?: PairwiseSummary | null;
  /** The run's questions (and with use 'teacher' its answers) came from a file. */
  imported?: ReportImportedData | null;
  /** Further honest notes from the caller (hardware, shortcuts taken, ...). */
  notes?: string[];
  generatedAt?: string;
}

function usd(x: number | null | undefined): string {
  if (!isNum(x)) return NOT_MEASURED;
  return x >= 100
    ? `$${x.toLocaleString('en-US', { maximumFractionDigits: 0 })}`
    : `$${x.toFixed(x >= 1 ? 2 : 4)}`;
}

function ms(x: number | null | undefined): string {
  return isNum(x) ? `${x.toFixed(0)} ms` : NOT_MEASURED;
}

function quote(text: string, max = 700): string {
  const t = text.trim() || '(empty answer)';
  const cut = t.length > max ? `${t.slice(0, max)}...` : t;
  return cut
    .split('\n')
    .map((l) => `> ${l}`)
    .join('\n');
}

function configSection(i: ResultsReportInput): string {
  const r = i.run;
  const rows: string[][] = [
    ['Run', r.id],
    [
      'Status',
      `${r.status}${r.step ? ` (last step: ${r.step})` : ''}${r.error ? ` - error: ${r.error}` : ''}`,
    ],
    ['Scale', r.scale],
    [
      'Persona',
      i.persona
        ? `${i.persona.name} (${i.persona.id} v${i.persona.version})`
        : `${r.personaId} v${r.personaVersion}`,
    ],
    [
      'System prompt',
      i.persona
        ? `${i.persona.wordCount} words, ${isNum(i.persona.promptTokens) ? `${i.persona.promptTokens} tokens` : `tokens ${NOT_MEASURED}`}`
        : NOT_MEASURED,
    ],
    [
      'Teacher',
      i.imported?.use === 'teacher'
        ? `none: the answers were imported from \`${i.imported.path}\``
        : i.teacher
          ? `${i.teacher.model} via ${i.teacher.provider}, with the system prompt`
          : NOT_MEASURED,
    ],
    [
      'Student',
      `${i.studentBase ?? i.training?.config.baseModel ?? NOT_MEASURED} + LoRA, without the system prompt`,
    ],
    ['Created', r.createdAt],
  ];
  return `## Run configuration\n\n${table(['', ''], rows)}`;
}

function dataSection(i: ResultsReportInput): string {
  const parts: string[] = ['## Data'];
  if (i.imported) parts.push(importedDataNote(i.imported));
  if (i.questions) {
    parts.push(
      `Questions: ${i.questions.total} ${i.imported ? 'imported' : 'generated'} (${i.questions.heldout} held out for evaluation only).\n\n` +
        table(
          ['Category', 'Questions'],
          Object.entries(i.questions.byCategory)
            .sort()
            .map(([c, n]) => [c, String(n)]),
        ),
    );
  } else parts.push(`Questions: ${NOT_MEASURED}.`);
  if (i.generation) {
    const extra = [
      isNum(i.generation.wallSeconds) ? `in ${(i.generation.wallSeconds / 60).toFixed(1)} min` : null,
      isNum(i.generation.tokensPerS) ? `${i.generation.tokensPerS.toFixed(1)} tokens/s` : null,
    ].filter(Boolean);
    parts.push(
      i.imported?.use === 'teacher'
        ? `Teacher examples: ${i.generation.examples}, the imported answers (no teacher was asked).`
        : `Teacher examples: ${i.generation.examples}${extra.length ? ` (${extra.join(', ')})` : ''}.`,
    );
  }
  const a = i.audit;
  if (a) {
    parts.push('### Audit');
    parts.push(
      table(
        ['Measure', 'Value'],
        [
          ['Examples', String(a.total)],
          ['Kept after filters', `${a.kept} (${pct(a.total ? a.kept / a.total : null)})`],
          [
            'Answer length, words (mean / median / std / min / max)',
            `${a.length.mean.toFixed(1)} / ${a.length.median} / ${a.length.std.toFixed(1)} / ${a.length.min} / ${a.length.max}`,
          ],
          ['Character keyword presence (kept)', pct(a.keywordPresence)],
          ['Exact duplicates', String(a.exactDuplicates)],
          ['Near duplicates', String(a.nearDuplicates)],
        ],
      ),
    );
    const flags = Object.entries(a.flagged).sort((x, y) => y[1] - x[1]);
    parts.push(
      flags.length
        ? `Filtered (kept in the data with their reason, excluded from training):\n\n${table(
            ['Flag', 'Examples'],
            flags.map(([f, n]) => [f, String(n)]),
          )}`
        : 'No example was filtered.',
    );
    const cats = Object.entries(a.categories).sort();
    if (cats.length)
      parts.push(
        `Category balance of kept examples:\n\n${table(
          ['Category', 'Kept'],
          cats.map(([c, n]) => [c, String(n)]),
        )}`,
      );
  } else parts.push(`Audit: ${NOT_MEASURED}.`);
  parts.push(
    i.split
      ? `Split: ${i.split.train} train / ${i.split.val} validation (seeded, stratified by category, kept examples only).`
      : `Split: ${NOT_MEASURED}.`,
  );
  return parts.join('\n\n');
}

/** Where the imported data came from and what the run took of it. */
function importedDataNote(d: ReportImportedData): string {
  const counts =
    d.taken !== null && d.pairs !== null
      ? `; the run took ${d.taken} of its ${d.pairs} question -> answer pairs${d.heldOut !== null ? `, ${d.heldOut} of them held out for evaluation` : ''}${d.skipped ? ` (${d.skipped} lines or entries were no pair and were skipped)` : ''}`
      : '';
  const used =
    d.use === 'teacher'
      ? 'its questions and its answers are the teacher data (no teacher model was asked)'
      : 'its questions were answered by the teacher';
  return `Imported data: \`${d.path}\` (${d.layout}, sha256 ${d.sha256 ? `\`${d.sha256}\`` : 'not recorded for this run'})${counts}; ${used}. The pairs taken are kept in the run folder as imported_data.jsonl.`;
}

/** Which objective ran, and why kd is the default (the measurement is the README's). */
function objectiveNote(objective: TrainingObjective, imported?: ReportImportedData | null): string {
  const why = `Why kd is the default: ${DEFAULT_OBJECTIVE_REASON}`;
  if (imported?.use === 'teacher' && objective === 'sft')
    return `Objective: sft, because the teacher's answers were imported: a file of answers carries no token distributions, which kd (the default where a teacher gives them) needs. ${TRAINING_OBJECTIVE_INFO.sft.text}\n\n${why}`;
  return objective === DEFAULT_OBJECTIVE
    ? `Objective: ${objective}, the default. ${TRAINING_OBJECTIVE_INFO[objective].text}\n\n${why}`
    : `Objective: ${objective}, chosen for this run (the default is ${DEFAULT_OBJECTIVE}${objective === 'sft' ? '; sft is also what runs when the teacher gave no token distributions' : ''}). ${TRAINING_OBJECTIVE_INFO[objective].text}\n\n${why}`;
}

function trainingSection(i: ResultsReportInput): string {
  const t = i.training;
  if (!t) return `## Training\n\n${NOT_MEASURED}: no training job finished for this run.`;
  const c = t.config;
  const kind = t.kind ?? c.objective;
  const trainName = LOSS_NAMES[lossKindOf(kind, 'train')];
  const valName = LOSS_NAMES[lossKindOf(kind, 'eval')];
  const lossRows: string[][] = [
    [`First train ${trainName.short}`, num(t.firstTrainLoss, 4)],
    [`Final train ${trainName.short}`, num(t.finalTrainLoss, 4)],
    [`Final validation ${valName.short}`, num(t.finalValLoss, 4)],
    ...(valName.key !== 'Nll' && isNum(t.finalValNll)
      ? [['Final validation NLL', num(t.finalValNll, 4)]]
      : []),
  ];
  const named = [...new Set([trainName, valName, ...(isNum(t.finalValNll) ? [LOSS_NAMES.nll] : [])])];
  return [
    '## Training',
    table(
      ['Setting', 'Value'],
      [
        ['Base model', c.baseModel],
        ['Objective', `${c.objective} — ${TRAINING_OBJECTIVE_INFO[c.objective].label}`],
        ['LoRA r / alpha / dropout', `${c.loraR} / ${c.loraAlpha} / ${c.loraDropout}`],
        ['Target modules', c.targetModules.length ? c.targetModules.join(', ') : 'engine default'],
        ['Learning rate, schedule, warm-up', `${c.learningRate} ${c.schedule}, ${c.warmupSteps} steps`],
        ['Batch x accumulation', `${c.batchSize} x ${c.gradAccum}`],
        ['Max length', `${c.maxLength} tokens`],
        ['Steps run', String(t.steps)],
        ...lossRows,
        ['Wall time', isNum(t.wallSeconds) ? `${(t.wallSeconds / 60).toFixed(1)} min` : NOT_MEASURED],
        ['Checkpoint evaluated', t.checkpointId ?? NOT_MEASURED],
      ],
    ),
    objectiveNote(c.objective, i.imported),
    `Losses are computed on assistant tokens only; the student never sees the system prompt. ${named.map((n) => `${n.long.charAt(0).toUpperCase()}${n.long.slice(1)}.`).join(' ')} The Evaluation section's NLL scores the same validation answers differently (as text, with an end token after each).`,
  ].join('\n\n');
}

function savingsSection(i: ResultsReportInput): string {
  const s = i.savings;
  if (!s) return `## Savings\n\n${NOT_MEASURED}: the savings step has not run.`;
  return [
    '## Savings',
    table(
      ['Measure', 'Teacher (with prompt)', 'Student (no prompt)'],
      [
        ['Prompt tokens per query', num(s.promptTokensTeacher, 1), num(s.promptTokensStudent, 1)],
        ['Time to first token', ms(s.ttftMsTeacher), ms(s.ttftMsStudent)],
        ['Latency per query', ms(s.latencyMsTeacher), ms(s.latencyMsStudent)],
        ['Cost per 1M queries', usd(s.costPerMillionTeacher), usd(s.costPerMillionStudent)],
      ],
    ),
    [
      `- Prompt-token reduction: ${pct(s.tokenReduction)}`,
      `- Latency ratio (teacher / student): ${isNum(s.latencyRatio) ? `${s.latencyRatio.toFixed(2)}x` : NOT_MEASURED}`,
      isNum(s.trainingCostUsd) ? `- Training cost: ${usd(s.trainingCostUsd)}` : null,
      `- Payback: ${isNum(s.paybackQueries) ? `${Math.ceil(s.paybackQueries).toLocaleString('en-US')} queries` : 'not reached (no saving per query, or training cost unknown)'}`,
    ]
      .filter(Boolean)
      .join('\n'),
  ].join('\n\n');
}

/** Three examples from three categories: the first evaluated question of each, not hand-picked. */
export function pickExamples(items: readonly EvaluationItemRow[], n = 3): EvaluationItemRow[] {
  const out: EvaluationItemRow[] = [];
  const seen = new Set<string>();
  for (const it of [...items].sort((a, b) => a.questionId - b.questionId)) {
    if (seen.has(it.category)) continue;
    seen.add(it.category);
    out.push(it);
    if (out.length >= n) break;
  }
  for (const it of items) {
    if (out.length >= n) break;
    if (!out.includes(it)) out.push(it);
  }
  return out;
}

function examplesSection(i: ResultsReportInput): string {
  const items = i.evaluation?.items ?? [];
  if (items.length === 0) return `## Before and after\n\n${NOT_MEASURED}.`;
  const parts = [
    '## Before and after',
    'The first evaluated question of three categories (not hand-picked). "Before" is the base model without the prompt, "after" the distilled student without the prompt; the teacher had the prompt.',
  ];
  pickExamples(items).forEach((it, k) => {
    parts.push(`### ${k + 1}. ${it.question} (${it.category})`);
    parts.push(`**Before - base:**\n\n${quote(it.answers.base)}`);
    parts.push(`**After - student:**\n\n${quote(it.answers.student)}`);
    parts.push(`**Reference - teacher:**\n\n${quote(it.answers.teacher)}`);
  });
  return parts.join('\n\n');
}

function pairwiseSection(p: PairwiseSummary | null | undefined): string {
  const head = '### Pairwise A/B: student against teacher';
  if (!p) return `${head}\n\n${NOT_MEASURED}: no pairwise sheet has been judged.`;
  const intro = `${p.judged} of ${p.total} held-out questions judged: the student's and the teacher's answers side by side as A and B, which is which drawn per pair (seeded) and hidden from the reviewer, who picked the better one or called a tie.`;
  const s = p.student;
  if (!s)
    return [
      head,
      intro,
      `The student's preference share is hidden until the sheet is un-blinded (picks by side so far: A ${p.picks.a}, B ${p.picks.b}, tie ${p.picks.tie}).`,
    ].join('\n\n');
  const n = s.wins + s.losses + s.ties;
  return [
    head,
    intro,
    table(
      ['Judgement', 'Pairs'],
      [
        ['student preferred', String(s.wins)],
        [`${s.against} preferred`, String(s.losses)],
        ['tie', String(s.ties)],
      ],
    ),
    `**Preference share for the student: ${pctCi(s.share, s.interval)}** = (wins + ties / 2) / ${n} judged pairs: a tie counts as half a win. 95% percentile bootstrap interval over the pairs (2000 resamples, seeded), as the evaluation's. 50% means the reviewer preferred neither model; an interval that contains 50% shows no preference either way.`,
  ].join('\n\n');
}

/** "## Manual review": the rating sheet and the pairwise A/B comparison. */
export function reviewSection(i: ResultsReportInput): string {
  const r = i.review;
  const pairwise = pairwiseSection(i.pairwise);
  if (!r) return `## Manual review\n\n${NOT_MEASURED}: no review sheet has been rated.\n\n${pairwise}`;
  const student = r.passRateBySource.student;
  return [
    '## Manual review',
    `${r.rated} of ${r.total} responses rated.`,
    table(
      ['Dimension', 'Mean (1-5)'],
      Object.entries(r.meanByDimension).map(([d, m]) => [d, isNum(m) ? m.toFixed(2) : NOT_MEASURED]),
    ),
    student === undefined
      ? 'Student pass rate: hidden (blind sheet not yet un-blinded).'
      : `Student pass rate (every dimension >= 4): ${pct(student)} - ${r.meetsTarget ? 'meets' : 'below'} the ${pct(r.target, 0)} target.`,
    pairwise,
  ].join('\n\n');
}

function notesSection(i: ResultsReportInput): string {
  const notes: string[] = [];
  const missing: string[] = [];
  const e = i.evaluation?.summary;
  if (!i.audit) missing.push('dataset audit');
  if (!i.training) missing.push('training');
  if (!e) missing.push('evaluation');
  if (e && !isNum(e.valLoss)) missing.push(`validation ${EVALUATION_NLL.short}`);
  if (e && !isNum(e.perplexity)) missing.push('perplexity');
  if (e && !e.elo) missing.push('Elo / pairwise preference');
  if (!i.savings) missing.push('savings (tokens, latency, cost)');
  if (!i.review) missing.push('manual review');
  if (!isNum(i.persona?.promptTokens)) missing.push('system-prompt token count');
  if (missing.length) notes.push(`Not measured in this run: ${missing.join(', ')}.`);
  if (e && e.n < 100)
    notes.push(
      `The evaluation used ${e.n} questions; differences of a few percent are within sampling noise at this size.`,
    );
  if (i.run.scale !== 'paper')
    notes.push(
      `This is a "${i.run.scale}" run: fewer questions and steps than the full recipe, so quality figures are lower than a full run would give.`,
    );
  notes.push(
    'Similarity scores compare one sampled student answer with one sampled teacher answer per question; they measure closeness to the teacher, not correctness.',
  );
  if (i.savings)
    notes.push(
      'Latency and time to first token were measured on this machine with the same engine for teacher and student; other hardware will give other absolute numbers.',
    );
  notes.push(...(i.notes ?? []));
  return `## Honest notes\n\n${notes.map((n) => `- ${n}`).join('\n')}`;
}

export function renderResultsReport(input: ResultsReportInput): string {
  const title = `# Results: distilling ${input.persona?.name ?? input.run.personaId} into a student model`;
  const when = `Generated ${input.generatedAt ?? new Date().toISOString()} by Character Studio.`;
  return (
    [
      title,
      when,
      configSection(input),
      dataSection(input),
      trainingSection(input),
      evaluationSection(input.evaluation?.summary),
      robustnessSection(input.evaluation?.summary.robustness),
      savingsSection(input),
      examplesSection(input),
      reviewSection(input),
      notesSection(input),
    ].join('\n\n') + '\n'
  );
}
