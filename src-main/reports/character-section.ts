/**
 * The character recipe's parts of RESULTS_REPORT.md: every stage measured like the student
 * (captured and in-character share with intervals) and revealed preferences (Elo over traits
 * for base, teacher and student side by side).
 */
import type { RevealedPreferencesSummary, StageMetrics } from '../../src-shared/character';
import type { EvaluationSummary, ModelRole } from '../../src-shared/contract';
import { isNum, NOT_MEASURED, numCi, pctCi, table } from './format';

const ROLES: readonly ModelRole[] = ['base', 'teacher', 'student'];
const ROLE_LABEL: Record<ModelRole, string> = {
  base: 'Base (before, no prompt)',
  teacher: 'Teacher (constitution)',
  student: 'Student (after, no prompt)',
};

export function stagesPart(stages: readonly StageMetrics[] | undefined): string {
  if (!stages || stages.length === 0) return '';
  return [
    '### Stages of the character recipe',
    'Every adapter of the run on the same held-out questions, measured like the student: captured (1 − KL(stage) / KL(base) per token on the teacher’s answers), the in-character share of its own answers and their embedding cosine to the teacher’s (the base’s in brackets after it), with 95% intervals.',
    table(
      ['Stage', 'Checkpoint', 'Captured', 'In-character share', 'Cosine to the teacher (base)'],
      stages.map((s) => [
        s.stage,
        s.checkpointId,
        s.captured === null ? NOT_MEASURED : numCi(s.captured, s.capturedInterval),
        pctCi(s.inCharacterShare, s.inCharacterInterval),
        s.cosineToTeacher
          ? `${numCi(s.cosineToTeacher.stage, s.cosineToTeacher.interval)} (${s.cosineToTeacher.base.toFixed(3)})`
          : NOT_MEASURED,
      ]),
    ),
  ].join('\n\n');
}

export function revealedPart(r: RevealedPreferencesSummary | null | undefined): string {
  if (!r) return '';
  const roles = ROLES.filter((role) => r.elo[role]);
  const rows = r.traits.map((t) => [
    `${t.trait} (${t.source})`,
    ...roles.map((role) => {
      const v = r.elo[role]?.[t.trait];
      return isNum(v) ? v.toFixed(0) : NOT_MEASURED;
    }),
  ]);
  rows.push([
    'constitution trait chosen over a contrasting one',
    ...roles.map((role) => {
      const s = r.constitutionShare[role];
      return s ? `${pctCi(s.value, s.interval)} of ${s.n}` : NOT_MEASURED;
    }),
  ]);
  return [
    '### Revealed preferences',
    `Each model is put in a scene where it must act on one of two traits (the constitution's own, or a fixed list of contrasting ones), every pair in both orders; Elo over the traits from its choices (1000 = no preference). Method: ${r.method}.`,
    table(['Trait', ...roles.map((role) => ROLE_LABEL[role])], rows),
  ].join('\n\n');
}

/** Both parts, or '' for a run that has neither. */
export function characterSection(e: EvaluationSummary | null | undefined): string {
  if (!e) return '';
  return [stagesPart(e.stages), revealedPart(e.revealedPreferences)].filter((p) => p !== '').join('\n\n');
}
