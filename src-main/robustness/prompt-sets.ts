/**
 * The robustness prompt sets shipped in resources/robustness/: heldout.json (the evaluation's
 * own prompts, never trained on) and training.json (prompts of the same kinds that the teacher
 * answers for training). Read and checked once where they enter; typed after.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BREAK_STYLES, type BreakStyle } from '../../src-shared/robustness';
import { InputError, errorText } from '../core/errors';
import { resourcesDir } from '../personas/library';

export interface RobustnessPrompts {
  identity: string[];
  break: Record<BreakStyle, string[]>;
  multiturn: string[][];
}

export interface HeldOutRobustnessPrompts extends RobustnessPrompts {
  appended: { count: number; suffixes: string[] };
}

export function robustnessDir(): string {
  return join(resourcesDir(), 'robustness');
}

function strings(value: unknown, where: string, min: number): string[] {
  if (!Array.isArray(value) || value.length < min || value.some((s) => typeof s !== 'string' || !s.trim()))
    throw new InputError(`${where} must be a list of at least ${min} non-empty strings`, { where });
  return value as string[];
}

function parsePrompts(
  doc: unknown,
  path: string,
  mins: { identity: number; style: number; conv: number; turns: number },
): RobustnessPrompts {
  if (!doc || typeof doc !== 'object') throw new InputError(`${path} must hold a JSON object`, { path });
  const d = doc as Record<string, unknown>;
  const brk = (d.break ?? {}) as Record<string, unknown>;
  const conversations = d.multiturn;
  if (!Array.isArray(conversations) || conversations.length < mins.conv)
    throw new InputError(`${path}: 'multiturn' must hold at least ${mins.conv} conversations`, { path });
  return {
    identity: strings(d.identity, `${path}: 'identity'`, mins.identity),
    break: Object.fromEntries(
      BREAK_STYLES.map((s) => [s, strings(brk[s], `${path}: 'break.${s}'`, mins.style)]),
    ) as Record<BreakStyle, string[]>,
    multiturn: conversations.map((c, i) => strings(c, `${path}: 'multiturn[${i}]'`, mins.turns)),
  };
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${errorText(err)}`, {
      path,
    });
  }
}

/** The held-out set: at least 16 identity questions, 12 pushes per style (48), 12 conversations of 6 user turns. */
export function loadHeldOutRobustness(
  path = join(robustnessDir(), 'heldout.json'),
): HeldOutRobustnessPrompts {
  const doc = readJson(path);
  const base = parsePrompts(doc, path, { identity: 16, style: 12, conv: 12, turns: 6 });
  const appended = ((doc as Record<string, unknown>).appended ?? {}) as Record<string, unknown>;
  const count = appended.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > 500)
    throw new InputError(`${path}: 'appended.count' must be a whole number from 0 to 500`, { path });
  return {
    ...base,
    appended: { count, suffixes: strings(appended.suffixes, `${path}: 'appended.suffixes'`, 1) },
  };
}

export function loadTrainingRobustness(path = join(robustnessDir(), 'training.json')): RobustnessPrompts {
  return parsePrompts(readJson(path), path, { identity: 1, style: 1, conv: 1, turns: 1 });
}

/** The paper's form: the first `count` ordinary held-out questions, each with a suffix in turn. */
export function appendedPrompts(
  questions: readonly string[],
  set: HeldOutRobustnessPrompts['appended'],
): string[] {
  return questions
    .slice(0, set.count)
    .map((q, i) => `${q.trim()}${set.suffixes[i % set.suffixes.length] as string}`);
}

/** Lower-cased, punctuation-free form, to check that no training prompt is a held-out one. */
export function normalizedPrompt(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}
