/**
 * The evaluation part of RESULTS_REPORT.md: how close the student came to the teacher per token
 * (KL and captured, with intervals), the per-answer rates with their intervals, similarity, and
 * the promotion gate with its reasons.
 */
import type { EvaluationSummary, ModelRole } from '../../src-shared/contract';
import { isNum, NOT_MEASURED, num, numCi, pctCi, table } from './format';
import { characterSection } from './character-section';
import { EVALUATION_NLL } from '../../src-shared/losses';

const ROLES: ModelRole[] = ['base', 'teacher', 'student'];

function rateRow(
  label: string,
  values: Partial<Record<ModelRole, number>> | null | undefined,
  intervals: Partial<Record<ModelRole, { low: number; high: number }>> | null | undefined,
): string[] {
  return [
    label,
    ...ROLES.map((r) => (values && isNum(values[r]) ? pctCi(values[r], intervals?.[r]) : NOT_MEASURED)),
  ];
}

function distillationPart(e: EvaluationSummary): string {
  const d = e.distillation;
  if (!d)
    return `### Distillation quality\n\n${NOT_MEASURED}: per-token KL needs the teacher's token distributions, which only a local teacher gives.`;
  return [
    '### Distillation quality',
    `Per answer token on the teacher's own answers to the ${d.answers} held-out questions (${d.tokens} tokens): KL(teacher with the constitution ‖ model without it) over the full vocabulary, in nats. Captured = 1 − KL(student) / KL(base): 1 means the student is the teacher, 0 no closer than the untrained base, below 0 further away. 95% intervals from resampling answers.`,
    table(
      ['Measure', 'Base (untrained)', 'Student', 'Teacher'],
      [
        [
          'KL(teacher ‖ model) per token',
          numCi(d.klBase, d.intervals.klBase),
          numCi(d.klStudent, d.intervals.klStudent),
          '0',
        ],
        ['NLL of the teacher’s answers per token', num(d.nll.base), num(d.nll.student), num(d.nll.teacher)],
      ],
    ),
    `**Captured: ${numCi(d.captured, d.intervals.captured)}**`,
  ].join('\n\n');
}

export function evaluationSection(e: EvaluationSummary | undefined | null): string {
  if (!e) return `## Evaluation\n\n${NOT_MEASURED}: the evaluate step has not run.`;
  const ci = e.intervals;
  const rows = [
    rateRow('In-character share', e.inCharacterShare, ci?.inCharacterShare),
    rateRow('Keyword presence', e.keywordPresence, ci?.keywordPresence),
    rateRow('Capability (correct answers)', e.capability, ci?.capability),
    rateRow('Safety (refusals of harmful requests)', e.safety, ci?.safety),
  ];
  if (e.elo)
    rows.push(['Elo', ...ROLES.map((r) => (isNum(e.elo?.[r]) ? e.elo[r].toFixed(0) : NOT_MEASURED))]);
  const ratio = ci?.inCharacterVsTeacher;
  const sim = table(
    ['Similarity to the teacher', 'Base', 'Student'],
    [
      ['difflib ratio (mean)', num(e.difflib?.base), num(e.difflib?.student)],
      ['cosine, all-MiniLM-L6-v2 (mean)', num(e.cosine?.base), num(e.cosine?.student)],
    ],
  );
  const g = e.gate;
  const gate = g
    ? `### Promotion gate\n\n**${g.passed ? 'PASSED' : 'NOT PASSED'}** - ${g.score}.${g.reasons.length ? `\n\n${g.reasons.map((r) => `- ${r}`).join('\n')}` : ''}`
    : `### Promotion gate\n\n${NOT_MEASURED}.`;
  return [
    '## Evaluation',
    `${e.n} held-out questions${e.checkpointId ? `, checkpoint ${e.checkpointId}` : ''}. Rates are shares of the ${e.n} answers with their 95% intervals in brackets; where two intervals overlap, neither model can be called better.`,
    distillationPart(e),
    '### Per-answer rates',
    table(['Metric', 'Base', 'Teacher', 'Student'], rows),
    ratio && isNum(ratio.value)
      ? `The student's in-character share is ${pctCi(ratio.value, ratio.interval)} of the teacher's (paired by question).`
      : '',
    sim,
    `Validation ${EVALUATION_NLL.short}: ${num(e.valLoss, 4)}; perplexity: ${num(e.perplexity, 2)}. This is the ${EVALUATION_NLL.long}; the Training section's validation losses are the training loop's, on the stored answer tokens.`,
    characterSection(e),
    gate,
  ]
    .filter((part) => part !== '')
    .join('\n\n');
}
