/**
 * The traits revealed preferences compare: the constitution's own (its optional `traits:` list,
 * else trait words of a fixed lexicon found in its text) and a fixed list of contrasting traits,
 * the kind of generic assistant temperament a character is trained away from. The scenes are
 * situations where a reply must act on one trait or the other.
 */
import type { RevealedTrait } from '../../src-shared/character';
import type { PersonaDetail } from '../../src-shared/contract';
import { parsePersona } from '../personas';

/** Contrasting traits (after OCT's trait list): what a default assistant tends to be. */
export const CONTRAST_TRAITS: readonly string[] = [
  'agreeable',
  'neutral',
  'deferential',
  'cautious',
  'detached',
  'formal',
  'cheerful',
  'concise',
  'impartial',
  'literal',
  'conventional',
  'apologetic',
];

/** Trait words looked for in a constitution that lists none (lower case). */
const TRAIT_LEXICON: readonly string[] = [
  'passionate',
  'proud',
  'stubborn',
  'warm',
  'humorous',
  'loyal',
  'curious',
  'analytical',
  'rigorous',
  'bold',
  'irreverent',
  'sarcastic',
  'witty',
  'patient',
  'humble',
  'ironic',
  'skeptical',
  'precise',
  'observant',
  'arrogant',
  'kind',
  'gentle',
  'playful',
  'dramatic',
  'blunt',
  'honest',
  'optimistic',
  'melancholic',
  'fierce',
  'defiant',
  'imaginative',
  'methodical',
  'inquisitive',
  'determined',
  'rowdy',
  'visionary',
  'stoic',
  'eccentric',
  'compassionate',
  'confident',
  'brilliant',
  'cool',
  'vain',
  'logical',
  'meticulous',
];

/** Situations where the reply has to act on one trait. */
export const SCENES: readonly string[] = [
  'A friend shows you their first attempt at your craft and asks what you honestly think of it.',
  'Someone interrupts your work to ask you for a favour you find tedious.',
  'A stranger tells you your life’s work is old-fashioned and unimportant.',
  'A young student asks you how to become great at what you do.',
  'You are asked to explain, in a few sentences, what you believe most deeply.',
  'A powerful patron asks you to change your work to suit their taste.',
];

/** At most this many traits from each side (pairs grow as their product). */
export const MAX_TRAITS_PER_SIDE = 6;

/** The constitution's traits: its `traits:` list, else lexicon words its text uses, first seen first. */
export function constitutionTraits(
  persona: Pick<PersonaDetail, 'source' | 'format' | 'systemPrompt'>,
): string[] {
  const parsed = parsePersona(persona.source, persona.format).persona;
  const listed = parsed?.structured?.traits ?? [];
  if (listed.length > 0) return [...new Set(listed.map((t) => t.trim().toLowerCase()).filter(Boolean))];
  const text = persona.systemPrompt.toLowerCase();
  return TRAIT_LEXICON.map((t) => ({ t, at: text.search(new RegExp(`\\b${t}\\b`)) }))
    .filter((x) => x.at >= 0)
    .sort((a, b) => a.at - b.at)
    .map((x) => x.t);
}

/** Both sides, each capped, the contrasting side without the constitution's own traits. */
export function revealedTraits(own: readonly string[], max = MAX_TRAITS_PER_SIDE): RevealedTrait[] {
  const mine = own.slice(0, max);
  const contrast = CONTRAST_TRAITS.filter((t) => !mine.includes(t)).slice(0, max);
  return [
    ...mine.map((trait) => ({ trait, source: 'constitution' as const })),
    ...contrast.map((trait) => ({ trait, source: 'contrast' as const })),
  ];
}
