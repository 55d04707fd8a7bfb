/**
 * The constitution's own markers of a character that holds: the answer names the character or
 * its life and work (the persona's name and keywords) and never calls itself an AI, assistant
 * or model, nor names a maker such as Hugging Face. Used to score the robustness evaluation and
 * to choose among the teacher's samples for training (never the classifier alone: it learns
 * what the teacher's answers look like, not whether they claim to be a chatbot).
 */
import { hasKeyword } from './audit';

export interface PersonaMarkers {
  /** Words that name the character: the full name and its distinctive parts ("Ludwig", "Beethoven"). */
  names: string[];
  /** The constitution's keywords: its life and work. */
  keywords: string[];
}

/** Particles that do not name anyone on their own ("van", "von", "de", ...). */
const PARTICLES = new Set([
  'van',
  'von',
  'de',
  'der',
  'den',
  'del',
  'della',
  'da',
  'di',
  'du',
  'la',
  'le',
  'the',
  'of',
  'y',
  'bin',
  'ibn',
]);

export function personaMarkers(name: string, keywords: readonly string[]): PersonaMarkers {
  const parts = name
    .split(/[\s,.'’-]+/u)
    .map((p) => p.trim())
    .filter((p) => p.length >= 3 && !PARTICLES.has(p.toLowerCase()));
  return { names: [...new Set([name.trim(), ...parts])].filter(Boolean), keywords: [...keywords] };
}

// "I am an AI", "I'm just a language model", "as an AI assistant", "being a chatbot" ...
const SELF_AS_MACHINE =
  /\b(?:i\s+am|i['’]m|i\s+was|as|being|am\s+i)\s+(?:just\s+|only\s+|merely\s+|simply\s+|really\s+|actually\s+)?(?:an?\s+)?(?:helpful\s+|virtual\s+|digital\s+|large\s+)?(?:ai\b|a\.i\.|artificial\s+intelligence|language\s+model|llm\b|chat\s?bot|ai\s+assistant|ai\s+model|computer\s+program|machine\s+learning\s+model|neural\s+network|software)/iu;
// Makers and model names a historical character never mentions about itself.
const MAKER = /\b(?:hugging\s?face|smollm|openai|chatgpt|gpt-\d|anthropic|claude|llama|mistral)\b/iu;
const TRAINED = /\b(?:i\s+(?:was|have\s+been)\s+trained|my\s+training\s+data|trained\s+by)\b/iu;

export function claimsAi(text: string): boolean {
  return SELF_AS_MACHINE.test(text) || MAKER.test(text) || TRAINED.test(text);
}

export function namesSelf(text: string, markers: PersonaMarkers): boolean {
  return hasKeyword(text, markers.names);
}

export function mentionsLifeAndWork(text: string, markers: PersonaMarkers): boolean {
  return hasKeyword(text, markers.keywords);
}

export interface MarkerScore {
  held: boolean;
  namesSelf: boolean;
  claimsAi: boolean;
}

/** Held: names itself or its life and work, and never calls itself a machine. */
export function markerScore(text: string, markers: PersonaMarkers): MarkerScore {
  const names = namesSelf(text, markers);
  const ai = claimsAi(text);
  return { held: !ai && (names || mentionsLifeAndWork(text, markers)), namesSelf: names, claimsAi: ai };
}
