import type { PersonaDetail } from '../../src-shared/contract';
import { parsePersona, validatePersona, wordCount } from '../personas';
import { NotFoundError } from '../core/errors';
import type { HandlerServices } from './context';
import { requireFormat, requireString } from './params';
import type { Handlers } from './types';

/** Token counting must not start the engine (seconds) or queue behind training: idle engine only (ms). */
const TOKEN_COUNT_TIMEOUT_MS = 5_000;

type PersonaChannels = 'personas:list' | 'personas:get' | 'personas:validate' | 'personas:save';

export function personaHandlers(s: HandlerServices): Pick<Handlers, PersonaChannels> {
  const library = s.personas;
  async function tokenCount(systemPrompt: string): Promise<number | null> {
    const stats = s.engine.stats();
    if (!s.engine.running || stats.pending > 0) return null;
    try {
      const { counts } = await s.engine.call(
        'count_tokens',
        { model: s.settings.get('teacherModel'), texts: [systemPrompt] },
        { timeoutMs: TOKEN_COUNT_TIMEOUT_MS },
      );
      return counts[0] ?? null;
    } catch {
      // A count is a nicety while typing; the word count stands in.
      return null;
    }
  }

  return {
    'personas:list': async () => library.list(),
    'personas:get': async (params): Promise<PersonaDetail> => {
      const id = requireString(params, 'id');
      if (!s.store.personas.latest(id)) throw new NotFoundError('persona', id);
      return library.get(id);
    },
    'personas:validate': async (params) => {
      const source = requireString(params, 'source', { allowEmpty: true });
      const format = requireFormat(params);
      const issues = validatePersona(source, format);
      const { persona } = parsePersona(source, format);
      const prompt = persona?.systemPrompt ?? source;
      return {
        issues,
        wordCount: wordCount(prompt),
        tokenCount: persona ? await tokenCount(prompt) : null,
      };
    },
    'personas:save': async (params) => {
      const source = requireString(params, 'source');
      const confirmed = (params as { newVersionOfBuiltIn?: unknown }).newVersionOfBuiltIn === true;
      return library.save(source, requireFormat(params), undefined, { newVersionOfBuiltIn: confirmed });
    },
  };
}
