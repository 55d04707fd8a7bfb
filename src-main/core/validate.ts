/**
 * Readers for configuration that arrives untyped (a stored JSON column, a handler's params, a
 * YAML file): each returns the typed value or throws a ConfigError naming the field by its full
 * path ("scaleConfig.training.learningRate") and saying what type it wanted and what it got.
 */
import { ConfigError } from './errors';

export type Json = Record<string, unknown>;

/** "a string", "the number 8", "null", "an array" — what a value is, for messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return `${value}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

/** Field paths join with dots: join('a', 'b') = 'a.b'; join('', 'b') = 'b'. */
export function joinField(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

export class Reader {
  constructor(
    /** Prefix of every message, e.g. "run 2026…-beethoven-mini-ab12: stored configuration". */
    private readonly where: string,
  ) {}

  fail(field: string, message: string): never {
    throw new ConfigError(`${this.where}: ${field} ${message}`, field);
  }

  object(raw: unknown, field: string): Json {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      this.fail(field, `must be an object, not ${describeValue(raw)}`);
    return raw as Json;
  }

  number(obj: Json, key: string, parent: string): number {
    const v = obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v))
      this.fail(joinField(parent, key), `must be a number, not ${describeValue(v)}`);
    return v;
  }

  int(obj: Json, key: string, parent: string): number {
    const v = this.number(obj, key, parent);
    if (!Number.isInteger(v)) this.fail(joinField(parent, key), `must be a whole number, not ${v}`);
    return v;
  }

  string(obj: Json, key: string, parent: string): string {
    const v = obj[key];
    if (typeof v !== 'string') this.fail(joinField(parent, key), `must be text, not ${describeValue(v)}`);
    return v;
  }

  oneOf<T extends string>(obj: Json, key: string, parent: string, allowed: readonly T[]): T {
    const v = obj[key];
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
      this.fail(joinField(parent, key), `must be one of ${allowed.join(', ')}, not ${describeValue(v)}`);
    return v as T;
  }

  strings(obj: Json, key: string, parent: string): string[] {
    const v = obj[key];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
      this.fail(joinField(parent, key), `must be a list of text, not ${describeValue(v)}`);
    return [...(v as string[])];
  }

  /** Refuses keys the reader does not know (a typo or a key at the wrong level would be ignored). */
  known(obj: Json, allowed: readonly string[], parent: string): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key))
        this.fail(joinField(parent, key), `is not a known setting here (known: ${allowed.join(', ')})`);
    }
  }
}
