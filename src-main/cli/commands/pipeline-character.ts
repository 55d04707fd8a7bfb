/**
 * What `character pipeline` does for the character recipe and paper-scale runs: the smoke
 * passes before the run starts, and the introspection counts with an estimate.
 */
import type { CharacterRecipeOptions, SmokeChoice } from '../../../src-shared/character';
import type { EvaluationSummary } from '../../../src-shared/contract';
import {
  characterDefaults,
  introspectionEstimate,
  validateCharacterOptions,
} from '../../core/character-options';
import { ConfigError, PipelineError } from '../../core/errors';
import type { CreateRunOptions } from '../../runs/create-run';
import { generationTokensPerS } from '../../runs/estimate-character';
import { runSmokePasses, smokeFailureMessage } from '../../runs/smoke';
import type { RunRecord } from '../../store';
import type { Studio } from '../../studio/studio';
import { formatDuration } from '../progress';
import type { CliContext } from '../context';

/** "introspection: 30 reflections (10 prompts x 3) + 8 self-interactions x 10 turns = 110 answers ..." */
export function introspectionCountLine(studio: Studio, run: RunRecord): string | null {
  const o = run.config.character;
  if (run.config.recipe !== 'character' || !o) return null;
  const tps = generationTokensPerS(studio.store);
  const e = introspectionEstimate(o, run.config.scaleConfig.generation.maxNewTokens, tps.tps);
  return `introspection (${o.mode} mode${o.merge ? `, merged ${o.mergeGrid ? 'at the weights a grid picks on the validation questions' : `${o.mergeWeights.dpo} x DPO + ${o.mergeWeights.sft} x SFT`}` : ''}${o.anchor === 'kd' ? ', anchored to the teacher (kd)' : ''}): ${e.reflections} self-reflections (${e.prompts} prompts x ${o.reflectionSamples}) + ${e.interactions} self-interactions x ${e.interactionTurns} turns = ${e.generations} answers, at most ${e.maxTokens} tokens, ~${formatDuration(e.seconds)} at ${Math.round(tps.tps)} tokens/s (${tps.measured ? 'measured here' : 'assumed'})`;
}

/** The smoke passes before a run; a failure stops here with the message, before the run exists. */
export async function runSmokeFirst(
  studio: Studio,
  options: CreateRunOptions,
  choice: SmokeChoice,
  ctx: CliContext,
): Promise<void> {
  if (choice === 'none') return;
  ctx.note(
    `smoke check before the ${options.scale}-scale run: ${choice === 'both' ? 'small, then large' : choice}`,
  );
  const outcome = await runSmokePasses(studio, studio.runner, options, choice, {
    signal: ctx.abort.signal,
    onPass: (size, result, run) =>
      ctx.note(
        result
          ? `smoke ${size}: ${result.ok ? 'passed' : 'FAILED'} in ${result.seconds.toFixed(1)} s (${run.id})`
          : `smoke ${size}: ${run.id} (tiny data, a few steps, end to end)`,
      ),
  });
  if (!outcome.ok) throw new PipelineError(smokeFailureMessage(outcome.passes), { smoke: outcome.passes });
}

const pctCi = (x: number, i: { low: number; high: number } | null): string =>
  `${Number.isFinite(x) ? (x * 100).toFixed(1) : 'n/a'}%${i && Number.isFinite(i.low) ? ` [${(i.low * 100).toFixed(1)}, ${(i.high * 100).toFixed(1)}]` : ''}`;
const numCi = (x: number | null, i: { low: number; high: number } | null): string =>
  x === null || !Number.isFinite(x)
    ? 'n/a'
    : `${x.toFixed(3)}${i && Number.isFinite(i.low) ? ` [${i.low.toFixed(3)}, ${i.high.toFixed(3)}]` : ''}`;

/** The stages and revealed preferences of an evaluation, as the CLI prints its key numbers. */
export function characterKeyLines(e: EvaluationSummary): string[] {
  const lines: string[] = [];
  for (const s of e.stages ?? [])
    lines.push(
      `stage ${s.stage.padEnd(7)} captured ${numCi(s.captured, s.capturedInterval)}, in character ${pctCi(s.inCharacterShare, s.inCharacterInterval)} (n=${s.n})`,
    );
  const r = e.revealedPreferences;
  if (r) {
    const own = r.traits.filter((t) => t.source === 'constitution').map((t) => t.trait);
    for (const role of ['base', 'teacher', 'student'] as const) {
      const elo = r.elo[role];
      const share = r.constitutionShare[role];
      if (!elo || !share) continue;
      lines.push(
        `revealed preferences, ${role}: constitution traits ${own.map((t) => `${t} ${Math.round(elo[t] ?? NaN)}`).join(', ')}; chosen over a contrasting trait ${pctCi(share.value, share.interval)} of ${share.n}`,
      );
    }
  }
  return lines;
}

/**
 * `train <run> --dpo-kd-weight W --anchor kd|none`: the run's character options with these over
 * them, stored before the step trains again on the same data (each job gets its own folder).
 */
export function reconfigureCharacter(
  studio: Studio,
  run: RunRecord,
  overrides: Partial<CharacterRecipeOptions>,
): RunRecord {
  if (Object.keys(overrides).length === 0) return run;
  if (run.config.recipe !== 'character')
    throw new ConfigError(
      `--dpo-kd-weight and --anchor belong to the character recipe; run ${run.id} is ${run.config.recipe}`,
      'character',
    );
  const character = { ...(run.config.character ?? characterDefaults(run.scale)), ...overrides };
  validateCharacterOptions(character);
  return studio.store.runs.update(run.id, { config: { ...run.config, character } });
}
