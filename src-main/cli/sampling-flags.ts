/**
 * The sampling flags of `sample` and `chat`: --temperature (0 is greedy), --top-p, --max-tokens,
 * --seed, --repetition-penalty and --no-repeat-ngram, over chat's defaults.
 */
import type { ChatSampling } from '../../src-shared/contract';
import { CliUsageError } from './context';

export const SAMPLING_FLAGS = {
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  'max-tokens': { type: 'string' },
  seed: { type: 'string' },
  'repetition-penalty': { type: 'string' },
  'no-repeat-ngram': { type: 'string' },
} as const;

export type SamplingFlagValues = Partial<Record<keyof typeof SAMPLING_FLAGS, string>>;

const FIELDS: Record<keyof typeof SAMPLING_FLAGS, keyof ChatSampling> = {
  temperature: 'temperature',
  'top-p': 'topP',
  'max-tokens': 'maxTokens',
  seed: 'seed',
  'repetition-penalty': 'repetitionPenalty',
  'no-repeat-ngram': 'noRepeatNgram',
};

/** The flags given, as numbers; ranges are checked by the chat service (chatSampling). */
export function samplingOverrides(command: string, values: SamplingFlagValues): Partial<ChatSampling> {
  const out: Partial<Record<keyof ChatSampling, number>> = {};
  for (const [flag, field] of Object.entries(FIELDS) as [keyof typeof SAMPLING_FLAGS, keyof ChatSampling][]) {
    const raw = values[flag];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n))
      throw new CliUsageError(`${command}: --${flag} must be a number (got "${raw}")`, command);
    out[field] = n;
  }
  return out as Partial<ChatSampling>;
}
