/**
 * The character recipe's introspection estimate: how many answers it generates and how long
 * that takes at the generation speed measured here (the newest timed generate step), or an
 * assumed speed before anything was measured.
 */
import type { IntrospectionEstimate } from '../../src-shared/character';
import { characterDefaults, introspectionEstimate } from '../core/character-options';
import type { RunRecord, Store } from '../store';

/** Tokens/s assumed before any run was timed here (estimate.ts assumes the same). */
const ASSUMED_GENERATION_TPS = 35;

export function generationTokensPerS(store: Store): { tps: number; measured: boolean } {
  for (const run of store.runs.list()) {
    const seconds = run.timings.generate;
    if (!seconds || seconds <= 0) continue;
    const tokens = store.examples.listByRun(run.id).reduce((sum, e) => sum + e.completionTokens, 0);
    if (tokens > 0) return { tps: tokens / seconds, measured: true };
  }
  return { tps: ASSUMED_GENERATION_TPS, measured: false };
}

/** The estimate of a character-recipe run (null for the other recipes). */
export function runIntrospectionEstimate(store: Store, run: RunRecord): IntrospectionEstimate | null {
  if (run.config.recipe !== 'character') return null;
  const options = run.config.character ?? characterDefaults(run.scale);
  return introspectionEstimate(
    options,
    run.config.scaleConfig.generation.maxNewTokens,
    generationTokensPerS(store).tps,
  );
}
