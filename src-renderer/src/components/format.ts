/** Display helpers shared by pages (units in the names: seconds, ms, USD, fractions 0..1). */

export function formatPercent(fraction: number | null | undefined, digits = 0): string {
  return fraction == null || !Number.isFinite(fraction) ? '—' : `${(fraction * 100).toFixed(digits)}%`;
}

export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

export function formatNumber(value: number | null | undefined, digits = 0): string {
  return value == null || !Number.isFinite(value)
    ? '—'
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function formatUsd(value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value)) return '—';
  return value < 0.01 && value > 0 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`;
}

/** " [30.2–61.5%]": a 95% interval of a fraction, for after its value; '' when there is none. */
export function formatPercentInterval(interval: { low: number; high: number } | null | undefined): string {
  if (!interval || !Number.isFinite(interval.low) || !Number.isFinite(interval.high)) return '';
  return ` [${(interval.low * 100).toFixed(1)}–${(interval.high * 100).toFixed(1)}%]`;
}

/** " [0.150–0.210]": a 95% interval of a plain number. */
export function formatNumberInterval(
  interval: { low: number; high: number } | null | undefined,
  digits = 3,
): string {
  if (!interval || !Number.isFinite(interval.low) || !Number.isFinite(interval.high)) return '';
  return ` [${interval.low.toFixed(digits)}–${interval.high.toFixed(digits)}]`;
}
