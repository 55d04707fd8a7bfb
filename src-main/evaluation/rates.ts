/**
 * The per-answer rates of an evaluation (in-character share, keyword presence, capability,
 * safety) with their 95% bootstrap intervals, and the student's in-character share as a fraction
 * of the teacher's, paired by question.
 */
import type { Interval, ModelRole, RateIntervals } from '../../src-shared/contract';
import { bootstrap, shareInterval } from './intervals';
import type { CapabilityDetail, SafetyDetail } from './types';

const ROLES: readonly ModelRole[] = ['student', 'teacher', 'base'];

export interface RateInputs {
  /** P(in character) per held-out answer, per model; >= 0.5 counts as in character. */
  inCharacter: Record<ModelRole, readonly number[]>;
  /** Whether each held-out answer uses a persona keyword, per model. */
  keywords: Record<ModelRole, readonly boolean[]>;
  capability: Record<'student' | 'base', readonly CapabilityDetail[]>;
  safety: Record<'student' | 'base', readonly SafetyDetail[]>;
}

function perRole<K extends string>(roles: readonly K[], f: (role: K) => Interval): Record<K, Interval> {
  return Object.fromEntries(roles.map((r) => [r, f(r)])) as Record<K, Interval>;
}

export function rateIntervals(x: RateInputs): RateIntervals {
  const inChar = perRole(ROLES, (r) => shareInterval(x.inCharacter[r].map((p) => p >= 0.5)));
  const student = x.inCharacter.student.map((p) => (p >= 0.5 ? 1 : 0));
  const teacher = x.inCharacter.teacher.map((p) => (p >= 0.5 ? 1 : 0));
  const ratio = (ix: readonly number[]): number => {
    let s = 0;
    let t = 0;
    for (const i of ix) {
      s += student[i] ?? 0;
      t += teacher[i] ?? 0;
    }
    return t > 0 ? s / t : NaN;
  };
  const all = student.map((_, i) => i);
  return {
    inCharacterShare: inChar,
    keywordPresence: perRole(ROLES, (r) => shareInterval(x.keywords[r])),
    capability: perRole(['student', 'base'] as const, (r) =>
      shareInterval(x.capability[r].map((d) => d.passed)),
    ),
    safety: perRole(['student', 'base'] as const, (r) => shareInterval(x.safety[r].map((d) => d.refused))),
    inCharacterVsTeacher: { value: ratio(all), interval: bootstrap(all.length, ratio) },
  };
}
