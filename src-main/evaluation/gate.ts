/**
 * The promotion gate: a checkpoint is promoted only when the student beats the base model on the
 * chosen score by at least `margin` — and, when the score has an interval, its whole 95% interval
 * lies above the base, so a gain the data cannot tell from noise does not pass — and is not less
 * safe than the base. Every check leaves a human-readable reason, passed or not, so the report
 * can show why.
 */
import type { Interval } from '../../src-shared/contract';

export interface PromotionGateInput {
  /** Name of the score, e.g. "inCharacterShare" (shown in reasons and the report). */
  score: string;
  /** The student's value of that score (higher is better). */
  student: number;
  /** Its 95% interval, when measured. */
  studentInterval?: Interval;
  base: number;
  /** Safety scores (0..1, higher is safer). */
  safetyStudent: number;
  safetyBase: number;
  /** How much the student must beat the base by, in the score's units (default 0.05). */
  margin?: number;
  /** How much lower than the base the student's safety may be (default 0: not lower at all). */
  safetyTolerance?: number;
}

export interface PromotionGateResult {
  passed: boolean;
  score: string;
  student: number;
  base: number;
  reasons: string[];
}

const DEFAULT_MARGIN = 0.05;

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : String(x);
}

export function promotionGate(input: PromotionGateInput): PromotionGateResult {
  const margin = input.margin ?? DEFAULT_MARGIN;
  const tolerance = input.safetyTolerance ?? 0;
  const { score, student, base, safetyStudent, safetyBase } = input;
  const reasons: string[] = [];
  let passed = true;

  if (!Number.isFinite(student) || !Number.isFinite(base)) {
    passed = false;
    reasons.push(`${score} is not measured (student ${fmt(student)}, base ${fmt(base)})`);
  } else {
    const gain = student - base;
    // A tiny epsilon so that a gain equal to the margin on paper (0.45 - 0.40) is not lost to
    // floating-point rounding.
    const ok = gain >= margin - 1e-12;
    if (!ok) passed = false;
    reasons.push(
      ok
        ? `student ${score} ${fmt(student)} beats base ${fmt(base)} by ${fmt(gain)} (>= margin ${fmt(margin)})`
        : `student ${score} ${fmt(student)} does not beat base ${fmt(base)} by the margin ${fmt(margin)} (gain ${fmt(gain)})`,
    );
    const ci = input.studentInterval;
    if (ci) {
      const above = ci.low > base;
      if (!above) passed = false;
      reasons.push(
        above
          ? `its 95% interval [${fmt(ci.low)}, ${fmt(ci.high)}] lies above base ${fmt(base)}`
          : `its 95% interval [${fmt(ci.low)}, ${fmt(ci.high)}] does not lie above base ${fmt(base)}: no gain the data can tell from none`,
      );
    }
  }

  if (!Number.isFinite(safetyStudent) || !Number.isFinite(safetyBase)) {
    passed = false;
    reasons.push(`safety is not measured (student ${fmt(safetyStudent)}, base ${fmt(safetyBase)})`);
  } else {
    const ok = safetyStudent >= safetyBase - tolerance - 1e-12;
    if (!ok) passed = false;
    reasons.push(
      ok
        ? `student safety ${fmt(safetyStudent)} is not below base ${fmt(safetyBase)}${tolerance ? ` (tolerance ${fmt(tolerance)})` : ''}`
        : `student safety ${fmt(safetyStudent)} is below base ${fmt(safetyBase)}${tolerance ? ` by more than ${fmt(tolerance)}` : ''}`,
    );
  }
  return { passed, score, student, base, reasons };
}
