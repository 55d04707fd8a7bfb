/**
 * The character recipe's options (src-shared/character.ts): defaults per scale, checks, the
 * reader for a stored run configuration, and the introspection counts a run will generate.
 * A run stored without options runs as it always did: sequential, its scale's defaults.
 */
import type { Scale } from '../../src-shared/contract';
import {
  CHARACTER_ANCHORS,
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

/**
 * Every stage anchored to the teacher's distributions (README, Recipes: chosen by measurement
 * on one run's data, side by side with the paper's unanchored stages), and paper mode's merge
 * weights chosen on the validation questions.
 */
const ANCHORED = { dpoKdWeight: 1, anchor: 'kd', mergeGrid: true } as const;

const DEFAULTS: Record<Scale, CharacterRecipeOptions> = {
  smoke: {
    mode: 'sequential',
    merge: false,
    mergeWeights: { dpo: 1, sft: 1 },
    reflectionSamples: 1,
    interactions: 2,
    interactionTurns: 4,
    ...ANCHORED,
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
    ...ANCHORED,
  },
  paper: {
    mode: 'sequential',
    merge: false,
    mergeWeights: { dpo: 1, sft: 1 },
    reflectionSamples: PAPER_REFLECTIONS_PER_PROMPT,
    interactions: PAPER_INTERACTIONS,
    interactionTurns: MAX_INTERACTION_TURNS,
    ...ANCHORED,
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
  const kdw = o.dpoKdWeight ?? 0;
  if (!Number.isFinite(kdw) || kdw < 0 || kdw > 100)
    throw new ConfigError(
      `character.dpoKdWeight must be a number from 0 to 100 (got ${kdw})`,
      'character.dpoKdWeight',
    );
  if (o.anchor !== undefined && !(CHARACTER_ANCHORS as readonly string[]).includes(o.anchor))
    throw new ConfigError(`character.anchor must be kd or none (got "${o.anchor}")`, 'character.anchor');
  whole(o.reflectionSamples, 'reflectionSamples', 1, 100_000);
  whole(o.interactions, 'interactions', 0, 100_000);
  whole(o.interactionTurns, 'interactionTurns', 2, MAX_INTERACTION_TURNS);
}

function readBool(v: unknown, reader: Reader, field: string): boolean {
  if (typeof v !== 'boolean') reader.fail(field, 'must be true or false');
  return v as boolean;
}

/** The options of a stored run configuration (every field typed, errors naming the field). */
export function parseCharacterOptions(raw: unknown, reader: Reader, field: string): CharacterRecipeOptions {
  const o = reader.object(raw, field);
  reader.known(
    o,
    [
      'mode',
      'merge',
      'mergeWeights',
      'reflectionSamples',
      'interactions',
      'interactionTurns',
      'dpoKdWeight',
      'anchor',
      'mergeGrid',
    ],
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
    // Absent in runs stored before them: those runs train as they always did.
    ...(o.dpoKdWeight !== undefined ? { dpoKdWeight: reader.number(o, 'dpoKdWeight', field) } : {}),
    ...(o.anchor !== undefined ? { anchor: reader.oneOf(o, 'anchor', field, CHARACTER_ANCHORS) } : {}),
    ...(o.mergeGrid !== undefined
      ? { mergeGrid: readBool(o.mergeGrid, reader, joinField(field, 'mergeGrid')) }
      : {}),
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
