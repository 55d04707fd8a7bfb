/**
 * The character recipe's channels: its options and introspection estimate (training:recipe),
 * the smoke passes of a run's settings (runs:smoke) and drafting a constitution with a model
 * (personas:draft).
 */
import type { SmokeChoice } from '../../src-shared/character';
import { draftConstitution } from '../personas/draft-constitution';
import { characterOptionsOf } from '../runs/configure-character';
import { runIntrospectionEstimate } from '../runs/estimate-character';
import { runSmokePasses } from '../runs/smoke';
import type { HandlerServices } from './context';
import { requireOneOf, requireString } from './params';
import type { Handlers } from './types';

type CharacterChannels = 'training:recipe' | 'runs:smoke' | 'personas:draft';

const SMOKE_CHOICES: readonly SmokeChoice[] = ['small', 'large', 'both', 'none'];

export function characterHandlers(s: HandlerServices): Pick<Handlers, CharacterChannels> {
  return {
    'training:recipe': async (params) => {
      const run = s.store.runs.require(requireString(params, 'runId'));
      return {
        recipe: run.config.recipe,
        character: characterOptionsOf(run),
        estimate: runIntrospectionEstimate(s.store, run),
      };
    },
    'runs:smoke': async (params) => {
      const run = s.store.runs.require(requireString(params, 'runId'));
      const which = requireOneOf(params, 'which', SMOKE_CHOICES);
      const c = run.config;
      return runSmokePasses(
        s,
        s.runner,
        {
          personaId: run.personaId,
          scale: run.scale,
          recipe: c.recipe,
          teacherModel: c.teacherModel,
          studentModel: c.studentModel,
          training: {
            objective: c.scaleConfig.training.objective,
            kdWeight: c.scaleConfig.training.kdWeight,
          },
          ...(c.importedData ? { importedData: c.importedData } : {}),
          ...(c.character ? { character: c.character } : {}),
        },
        which,
      );
    },
    'personas:draft': async (params) => {
      const name = requireString(params, 'name');
      const about = requireString(params, 'about');
      const provider = (params as { provider?: unknown }).provider === 'openai' ? 'openai' : 'local';
      return draftConstitution(s, {
        name,
        about,
        provider,
        progress: (done, total, message) =>
          s.events.emit('personas:draftProgress', { name, done, total, fraction: done / total, message }),
      });
    },
  };
}
