/**
 * The character recipe's flags of `pipeline`: --paper-mode, --merge,
 * --merge-weights DPO,SFT, --reflections N, --interactions N, --interaction-turns N, the
 * teacher anchor (--dpo-kd-weight W, --anchor kd|none), and the smoke passes before a
 * paper-scale run: --smoke small|large|both, --no-smoke. `train <run>` takes the anchor flags
 * too (CHARACTER_TRAIN_FLAGS): the same run's data trained again with other stage settings.
 */
import {
  CHARACTER_ANCHORS,
  type CharacterAnchor,
  type CharacterRecipeOptions,
  type SmokeChoice,
} from '../../src-shared/character';
import type { Scale } from '../../src-shared/contract';
import {
  MAX_INTERACTION_TURNS,
  MAX_INTERACTIONS,
  MAX_REFLECTIONS,
  MIN_INTERACTION_TURNS,
} from '../core/limits';
import { CliUsageError } from './context';
import { numberFlag } from './number-flag';

export const CHARACTER_FLAGS = {
  'paper-mode': { type: 'boolean' },
  merge: { type: 'boolean' },
  'merge-weights': { type: 'string' },
  reflections: { type: 'string' },
  interactions: { type: 'string' },
  'interaction-turns': { type: 'string' },
  smoke: { type: 'string' },
  'no-smoke': { type: 'boolean' },
  'dpo-kd-weight': { type: 'string' },
  anchor: { type: 'string' },
} as const;

/** The flags `train <run>` accepts for a character-recipe run. */
export const CHARACTER_TRAIN_FLAGS = {
  'dpo-kd-weight': { type: 'string' },
  anchor: { type: 'string' },
} as const;

export interface CharacterFlagValues {
  'paper-mode'?: boolean;
  merge?: boolean;
  'merge-weights'?: string;
  reflections?: string;
  interactions?: string;
  'interaction-turns'?: string;
  smoke?: string;
  'no-smoke'?: boolean;
  'dpo-kd-weight'?: string;
  anchor?: string;
}

/** --dpo-kd-weight and --anchor: how the stages are tied to the teacher. */
export function anchorOverrides(
  command: string,
  values: Pick<CharacterFlagValues, 'dpo-kd-weight' | 'anchor'>,
): Partial<CharacterRecipeOptions> {
  const out: Partial<CharacterRecipeOptions> = {};
  const raw = values['dpo-kd-weight'];
  if (raw !== undefined) {
    const w = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(w) || w < 0 || w > 100)
      throw new CliUsageError(
        `${command}: --dpo-kd-weight must be a number from 0 to 100 (got "${raw}")`,
        command,
      );
    out.dpoKdWeight = w;
  }
  if (values.anchor !== undefined) {
    if (!(CHARACTER_ANCHORS as readonly string[]).includes(values.anchor))
      throw new CliUsageError(`${command}: --anchor must be kd or none (got "${values.anchor}")`, command);
    out.anchor = values.anchor as CharacterAnchor;
  }
  return out;
}

/** The character options given on the command line (the rest come from the scale's defaults). */
export function characterOverrides(
  command: string,
  values: CharacterFlagValues,
): Partial<CharacterRecipeOptions> | undefined {
  const out: Partial<CharacterRecipeOptions> = {};
  if (values['paper-mode']) out.mode = 'paper';
  if (values.merge) {
    if (!values['paper-mode'])
      throw new CliUsageError(
        `${command}: --merge needs --paper-mode (in sequential mode SFT already continues from DPO)`,
        command,
      );
    out.merge = true;
  }
  if (values['merge-weights'] !== undefined) {
    const parts = values['merge-weights'].split(',').map((p) => Number(p.trim()));
    if (parts.length !== 2 || parts.some((w) => !Number.isFinite(w) || w < 0))
      throw new CliUsageError(
        `${command}: --merge-weights takes two numbers >= 0, DPO,SFT (e.g. 1,1; got "${values['merge-weights']}")`,
        command,
      );
    if (!values.merge)
      throw new CliUsageError(`${command}: --merge-weights needs --paper-mode --merge`, command);
    out.mergeWeights = { dpo: parts[0] as number, sft: parts[1] as number };
    // Weights given by hand are used as given: no grid.
    out.mergeGrid = false;
  }
  Object.assign(out, anchorOverrides(command, values));
  if (values.reflections !== undefined)
    out.reflectionSamples = numberFlag(command, 'reflections', values.reflections, {
      min: 1,
      max: MAX_REFLECTIONS,
      integer: true,
    });
  if (values.interactions !== undefined)
    out.interactions = numberFlag(command, 'interactions', values.interactions, {
      min: 0,
      max: MAX_INTERACTIONS,
      integer: true,
    });
  if (values['interaction-turns'] !== undefined)
    out.interactionTurns = numberFlag(command, 'interaction-turns', values['interaction-turns'], {
      min: MIN_INTERACTION_TURNS,
      max: MAX_INTERACTION_TURNS,
      integer: true,
    });
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Which smoke passes run first: both before a paper-scale run unless --no-smoke; none otherwise unless asked. */
export function smokeChoice(command: string, values: CharacterFlagValues, scale: Scale): SmokeChoice {
  if (values['no-smoke'] && values.smoke !== undefined)
    throw new CliUsageError(`${command}: --smoke and --no-smoke contradict each other`, command);
  if (values['no-smoke']) return 'none';
  if (values.smoke === undefined) return scale === 'paper' ? 'both' : 'none';
  if (!['small', 'large', 'both'].includes(values.smoke))
    throw new CliUsageError(
      `${command}: --smoke must be small, large or both (got "${values.smoke}")`,
      command,
    );
  return values.smoke as SmokeChoice;
}
