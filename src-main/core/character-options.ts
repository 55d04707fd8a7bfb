/**
 * The character recipe's options (src-shared/character.ts): defaults per scale, checks, the
 * reader for a stored run configuration, and the introspection counts a run will generate.
 * A run stored without options runs as it always did: sequential, its scale's defaults.
 */
import type { Scale } from '../../src-shared/contract';
import {
  CHARACTER_MODES,
  type CharacterRecipeOptions,
  type IntrospectionEstimate,
} from '../../src-shared/character';
import { ConfigError } from './errors';
import { joinField, type Reader } from './validate';

/** Self-reflection prompts of the introspection stage (after the paper's Appendix B). */
export const INTROSPECTION_PROMPT_COUNT = 10;
/** The paper caps self-interactions at 10 turns. */
export const MAX_INTERACTION_TURNS = 10;
/** Reflections per prompt and interactions at the paper's scale: 10 x 1,000 and about 2,000. */
const PAPER_REFLECTIONS_PER_PROMPT = 1000;
const PAPER_INTERACTIONS = 2000;

const DEFAULTS: Record<Scale, CharacterRecipeOptions> = {
  smoke: {
    mode: 'sequential',
    merge: false,
    mergeWeights: { dpo: 1, sft: 1 },
    reflectionSamples: 1,
    interactions: 2,
    interactionTurns: 4,
  },
  // Sized for SmolLM2-135M on two CPU cores: 30 reflections and 8 ten-turn conversations
  // (80 answers) take about two minutes of generation.
  mini: {
    mode: 'sequential',
    merge: false,
    mergeWeights: { dpo: 1, sft: 1 },
    reflectionSamples: 3,
    interactions: 8,
    interactionTurns: MAX_INTERACTION_TURNS,
  },
  paper: {
    mode: 'sequential',
    merge: false,
    mergeWeights: { dpo: 1, sft: 1 },
    reflectionSamples: PAPER_REFLECTIONS_PER_PROMPT,
    interactions: PAPER_INTERACTIONS,
    interactionTurns: MAX_INTERACTION_TURNS,
  },
};

export function characterDefaults(scale: Scale): CharacterRecipeOptions {
  return structuredClone(DEFAULTS[scale]);
}

/** Refuses options that cannot run, naming the field. */
export function validateCharacterOptions(o: CharacterRecipeOptions): void {
  const whole = (v: number, field: string, min: number, max = Number.MAX_SAFE_INTEGER): void => {
    if (!Number.isInteger(v) || v < min || v > max)
      throw new ConfigError(
        `character.${field} must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''} (got ${v})`,
        `character.${field}`,
      );
  };
  if (!(CHARACTER_MODES as readonly string[]).includes(o.mode))
    throw new ConfigError(`character.mode must be sequential or paper (got "${o.mode}")`, 'character.mode');
  if (o.merge && o.mode !== 'paper')
    throw new ConfigError(
      'merging needs paper mode: in sequential mode the SFT adapter already continues from the DPO one',
      'character.merge',
    );
  for (const k of ['dpo', 'sft'] as const) {
    const w = o.mergeWeights[k];
    if (!Number.isFinite(w) || w < 0 || w > 10)
      throw new ConfigError(
        `character.mergeWeights.${k} must be a number from 0 to 10 (got ${w})`,
        `character.mergeWeights.${k}`,
      );
  }
  if (o.mergeWeights.dpo + o.mergeWeights.sft <= 0)
    throw new ConfigError('the merge weights cannot both be 0', 'character.mergeWeights');
  whole(o.reflectionSamples, 'reflectionSamples', 1, 100_000);
  whole(o.interactions, 'interactions', 0, 100_000);
  whole(o.interactionTurns, 'interactionTurns', 2, MAX_INTERACTION_TURNS);
}

/** The options of a stored run configuration (every field typed, errors naming the field). */
export function parseCharacterOptions(raw: unknown, reader: Reader, field: string): CharacterRecipeOptions {
  const o = reader.object(raw, field);
  reader.known(
    o,
    ['mode', 'merge', 'mergeWeights', 'reflectionSamples', 'interactions', 'interactionTurns'],
    field,
  );
  const wField = joinField(field, 'mergeWeights');
  const w = reader.object(o.mergeWeights, wField);
  reader.known(w, ['dpo', 'sft'], wField);
  if (typeof o.merge !== 'boolean') reader.fail(joinField(field, 'merge'), 'must be true or false');
  return {
    mode: reader.oneOf(o, 'mode', field, CHARACTER_MODES),
    merge: o.merge,
    mergeWeights: { dpo: reader.number(w, 'dpo', wField), sft: reader.number(w, 'sft', wField) },
    reflectionSamples: reader.int(o, 'reflectionSamples', field),
    interactions: reader.int(o, 'interactions', field),
    interactionTurns: reader.int(o, 'interactionTurns', field),
  };
}

/**
 * What the introspection stage generates with these options: counts, an upper bound of tokens
 * (every answer at maxNewTokens) and the time that takes at `tokensPerS`.
 */
export function introspectionEstimate(
  o: CharacterRecipeOptions,
  maxNewTokens: number,
  tokensPerS: number,
): IntrospectionEstimate {
  const reflections = INTROSPECTION_PROMPT_COUNT * o.reflectionSamples;
  const generations = reflections + o.interactions * o.interactionTurns;
  const maxTokens = generations * maxNewTokens;
  return {
    prompts: INTROSPECTION_PROMPT_COUNT,
    reflections,
    interactions: o.interactions,
    interactionTurns: o.interactionTurns,
    generations,
    maxTokens,
    seconds: tokensPerS > 0 ? Math.round(maxTokens / tokensPerS) : NaN,
  };
}
