/** Formatting shared by the reports: numbers, percentages, intervals, markdown tables. */
import type { Interval } from '../../src-shared/contract';

export const NOT_MEASURED = 'not measured';

export function isNum(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

export function pct(x: number | null | undefined, digits = 1): string {
  return isNum(x) ? `${(x * 100).toFixed(digits)}%` : NOT_MEASURED;
}

export function num(x: number | null | undefined, digits = 3): string {
  if (!isNum(x)) return NOT_MEASURED;
  return Number.isInteger(x) && digits >= 0 ? x.toLocaleString('en-US') : x.toFixed(digits);
}

/** "45.8% [30.2, 61.5]": a share with its 95% interval, in percent. */
export function pctCi(x: number | null | undefined, ci: Interval | null | undefined): string {
  if (!isNum(x)) return NOT_MEASURED;
  return ci && isNum(ci.low) && isNum(ci.high)
    ? `${pct(x)} [${(ci.low * 100).toFixed(1)}, ${(ci.high * 100).toFixed(1)}]`
    : pct(x);
}

/** "0.180 [0.150, 0.210]": a value with its 95% interval. */
export function numCi(x: number | null | undefined, ci: Interval | null | undefined, digits = 3): string {
  if (!isNum(x)) return NOT_MEASURED;
  return ci && isNum(ci.low) && isNum(ci.high)
    ? `${x.toFixed(digits)} [${ci.low.toFixed(digits)}, ${ci.high.toFixed(digits)}]`
    : x.toFixed(digits);
}

export function table(header: string[], rows: string[][]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}
