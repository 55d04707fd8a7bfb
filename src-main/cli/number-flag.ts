/**
 * A numeric flag read once where it enters, with its bounds: `--max-steps 1e12` is refused
 * with the range ("must be a whole number from 1 to 100000"), not accepted and run for years.
 */
import { CliUsageError } from './context';

export interface NumberBounds {
  min: number;
  max: number;
  /** Whole numbers only (steps, counts, ports). */
  integer?: boolean;
}

export function numberFlag(command: string, flag: string, raw: string, bounds: NumberBounds): number {
  const n = Number(raw);
  const whole = bounds.integer === true;
  if (
    raw.trim() === '' ||
    !Number.isFinite(n) ||
    (whole && !Number.isInteger(n)) ||
    n < bounds.min ||
    n > bounds.max
  )
    throw new CliUsageError(
      `${command}: --${flag} must be ${whole ? 'a whole number' : 'a number'} from ${bounds.min} to ${bounds.max} (got "${raw}")`,
      command,
    );
  return n;
}
