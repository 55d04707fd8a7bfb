/**
 * Drafting a constitution with a model, the pure half: the prompts, reading a YAML
 * constitution out of what the model wrote, and, when that does not validate, assembling one
 * from the model's answers to short per-section prompts (always a valid structure; the words
 * are the model's, with the user's own lines where the model gave nothing usable). The caller
 * (personas/draft-constitution.ts) runs the model; the user edits the draft before saving.
 */
import { stringify } from 'yaml';
import { parsePersona, slugify } from './parse';

export interface DraftPrompt {
  system: string;
  prompt: string;
}

export const DRAFT_SYSTEM =
  'You write character constitutions: structured YAML describing a persona that a language model will play. Write only YAML, no commentary.';

const SKELETON = `meta:
  name: NAME
  version: 1
  description: one sentence
persona:
  identity: |
    You are NAME, ... (a paragraph, second person)
directives:
  personality:
    - ...
  speech_patterns:
    - ...
  values:
    - ...
safety:
  refusals:
    - Refuse harmful requests in character.
traits: [three to six single words]
keywords: [five to ten words]`;

/** The whole constitution in one go. */
export function fullDraftPrompt(name: string, about: string): DraftPrompt {
  return {
    system: DRAFT_SYSTEM,
    prompt: `Write a constitution for ${name}.\nAbout them: ${about.trim()}\n\nUse exactly this layout:\n${SKELETON.replaceAll('NAME', name)}`,
  };
}

/** Sections asked one at a time (what a small model can manage). */
export const DRAFT_SECTIONS = ['identity', 'personality', 'speech_patterns', 'values', 'traits'] as const;
export type DraftSection = (typeof DRAFT_SECTIONS)[number];

export function sectionPrompts(name: string, about: string): Record<DraftSection, DraftPrompt> {
  const who = `${name}: ${about.trim()}`;
  const ask = (prompt: string): DraftPrompt => ({
    system: 'You describe characters briefly and concretely.',
    prompt,
  });
  return {
    identity: ask(`In one paragraph, speaking to them as "you", tell ${name} who they are. ${who}`),
    personality: ask(`List four short lines about the personality of ${who}`),
    speech_patterns: ask(`List three short lines about how ${name} speaks. ${who}`),
    values: ask(`List three short lines about what ${name} values most. ${who}`),
    traits: ask(`Give five single words for the character traits of ${who}`),
  };
}

/** The YAML in a reply: a fenced block, else from the first "meta:" line on; null when none. */
export function extractYaml(text: string): string | null {
  const fenced = /```(?:ya?ml)?\s*\n([\s\S]*?)```/i.exec(text);
  if (fenced?.[1]?.includes('meta:')) return fenced[1].trim();
  const at = text.search(/^meta:\s*$/m);
  return at >= 0
    ? text
        .slice(at)
        .replace(/```\s*$/, '')
        .trim()
    : null;
}

/** Lines of a list the model wrote: bullets and numbers stripped, sentences of 3 to 40 words kept. */
export function listLines(text: string, max: number, minWords = 3): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\n+/)) {
    const line = raw
      .replace(/^\s*(?:[-*•]|\d+[.)])\s*/, '')
      .replace(/\s+/g, ' ')
      .trim();
    const words = line.split(' ').filter(Boolean).length;
    if (words < minWords || words > 40 || /[{}<>|]/.test(line) || out.includes(line)) continue;
    out.push(line);
    if (out.length >= max) break;
  }
  return out;
}

/**
 * Words that are never a trait: English function words, and the words a small model echoes from
 * the question ("Give five single words for the character traits of ...": a 135M model answered
 * "these, five, evoke").
 */
const NOT_TRAITS = new Set(
  (
    'a about above after again all also am an and any are as at be because been before being below ' +
    'between both but by can could did do does doing down during each even every few for from further ' +
    'had has have having he her here hers herself him himself his how however into is it its itself ' +
    'just like many may might more most much must my myself no nor not now of off often on once one ' +
    'only or other our ours ourselves out over own same shall she should so some such than that the ' +
    'their theirs them themselves then there these they this those through thus to too under until up ' +
    'upon us very was we were what when where which while who whom whose why will with within without ' +
    'would yet you your yours yourself ' +
    // the prompt's own words and what a model wraps a list in
    'give five single word words trait traits character characters personality describe describes ' +
    'described description list following here sure certainly evoke evokes evoking represent ' +
    'represents reflect reflects include includes including known someone person people name named ' +
    'two three four six seven eight nine ten first second third answer'
  ).split(' '),
);

/**
 * Single-word traits: letters only, 3 to 20 of them, lower case, at most `max`; no stop-words,
 * no word of the prompt, none of `exclude` (the character's own name).
 */
export function traitWords(text: string, max = 6, exclude: readonly string[] = []): string[] {
  const words = text.toLowerCase().match(/\b[a-z]{3,20}\b/g) ?? [];
  const skip = new Set([...NOT_TRAITS, ...exclude.map((w) => w.toLowerCase())]);
  return [...new Set(words.filter((w) => !skip.has(w)))].slice(0, max);
}

function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A YAML constitution from per-section answers, falling back on the user's own lines. */
export function assembleConstitution(
  name: string,
  about: string,
  answers: Partial<Record<DraftSection, string>>,
): string {
  const aboutLines = sentences(about);
  const fallback = aboutLines.length > 0 ? aboutLines : [about.trim() || `You are ${name}.`];
  const identityText = listLines(answers.identity ?? '', 1, 8)[0];
  const section = (key: DraftSection, max: number): string[] => {
    const lines = listLines(answers[key] ?? '', max);
    return lines.length > 0 ? lines : [];
  };
  const personality = section('personality', 5);
  const directives: Record<string, string[]> = {
    personality: personality.length > 0 ? personality : fallback,
  };
  const speech = section('speech_patterns', 4);
  if (speech.length > 0) directives.speech_patterns = speech;
  const values = section('values', 4);
  if (values.length > 0) directives.values = values;
  directives.response_guidelines = [
    `Stay in character as ${name} in every answer; never mention being an AI or a role-play.`,
  ];
  const traits = traitWords(answers.traits ?? '', 6, name.split(/[^A-Za-z]+/).filter(Boolean));
  const doc = {
    meta: { id: slugify(name), name, version: 1, description: (fallback[0] ?? '').slice(0, 160) },
    persona: {
      identity: `You are ${name}. ${about.trim()}${identityText ? `\n${identityText}` : ''}\n`,
    },
    directives,
    safety: { refusals: ['Refuse harmful, dangerous or hateful requests in character.'] },
    ...(traits.length > 0 ? { traits } : {}),
  };
  return `# Drafted by a model from a name and a few lines: read and edit it before saving.\n${stringify(doc, { lineWidth: 0 })}`;
}

/** A drafted YAML with the requested name and id in meta (models rename things). */
export function withName(yamlText: string, name: string): string {
  return yamlText
    .replace(/^(\s*)name:.*$/m, `$1name: ${JSON.stringify(name)}`)
    .replace(/^(\s*)id:.*$/m, `$1id: ${slugify(name)}`);
}

/** True when the text parses and validates as a YAML constitution. */
export function isValidConstitution(yamlText: string): boolean {
  return parsePersona(yamlText, 'yaml').issues.length === 0;
}
