/**
 * Checks of what the renderer sent. The contract types the params, but they cross a process
 * boundary as JSON: a handler must not trust their shape.
 */
import { InvalidParamsError } from '../core/errors';

function field(params: unknown, name: string): unknown {
  if (typeof params !== 'object' || params === null) {
    throw new InvalidParamsError(`expected an object with "${name}"`, name);
  }
  return (params as Record<string, unknown>)[name];
}

export function requireString(params: unknown, name: string, opts: { allowEmpty?: boolean } = {}): string {
  const value = field(params, name);
  if (typeof value !== 'string' || (!opts.allowEmpty && value.trim() === '')) {
    throw new InvalidParamsError(`"${name}" must be a non-empty string`, name);
  }
  return value;
}

export function optionalString(params: unknown, name: string): string | undefined {
  const value = field(params, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new InvalidParamsError(`"${name}" must be a string`, name);
  }
  return value;
}

export function requireInt(
  params: unknown,
  name: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const value = field(params, name);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidParamsError(`"${name}" must be an integer from ${min} to ${max}`, name);
  }
  return value;
}

export function requireBoolean(params: unknown, name: string): boolean {
  const value = field(params, name);
  if (typeof value !== 'boolean') {
    throw new InvalidParamsError(`"${name}" must be true or false`, name);
  }
  return value;
}

export function requireOneOf<T extends string>(params: unknown, name: string, allowed: readonly T[]): T {
  const value = field(params, name);
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidParamsError(`"${name}" must be one of ${allowed.join(', ')}`, name, {
      allowed: [...allowed],
    });
  }
  return value as T;
}

export function requireFormat(params: unknown): 'yaml' | 'text' {
  return requireOneOf(params, 'format', ['yaml', 'text'] as const);
}
