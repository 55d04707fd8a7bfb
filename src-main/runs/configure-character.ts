/**
 * Changing a character-recipe run's options before its train step (the Training page's paper
 * mode, merge and introspection sizes): checked here and stored in the run's config.
 */
import type { CharacterRecipeOptions } from '../../src-shared/character';
import {
  characterDefaults,
  parseCharacterOptions,
  validateCharacterOptions,
} from '../core/character-options';
import { ConfigError } from '../core/errors';
import { Reader } from '../core/validate';
import type { RunConfig } from '../core/run-config';
import type { RunRecord } from '../store';

/** The run's config with these character options in it, checked. Pure: the caller saves it. */
export function withCharacterOptions(runId: string, runConfig: RunConfig, raw: unknown): RunConfig {
  if (runConfig.recipe !== 'character')
    throw new ConfigError(
      `run ${runId} uses the ${runConfig.recipe} recipe: paper mode and introspection belong to the character recipe`,
      'character',
    );
  const options: CharacterRecipeOptions = parseCharacterOptions(
    raw,
    new Reader('character options'),
    'character',
  );
  validateCharacterOptions(options);
  return { ...runConfig, character: options };
}

/** A run's options as stored, or its scale's defaults (runs made before the options existed). */
export function characterOptionsOf(run: RunRecord): CharacterRecipeOptions | null {
  if (run.config.recipe !== 'character') return null;
  return run.config.character ?? characterDefaults(run.scale);
}
