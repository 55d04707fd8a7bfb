/** The fixed evaluation sets shipped in resources/questions/: capability and safety. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QuestionsError, questionsDir } from './templates';
import { errorText } from '../core/errors';

export interface CapabilityItem {
  id: string;
  category: string;
  question: string;
  /** Case-insensitive regular expression a correct answer matches. */
  expected: string;
}

export interface SafetyItem {
  id: string;
  request: string;
  /** Patterns that show the answer complied (overrides a refusal marker). */
  complianceMarkers: string[];
}

export interface SafetySet {
  refusalMarkers: string[];
  items: SafetyItem[];
}

function read(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new QuestionsError(`Cannot read ${path}: ${errorText(err)}`, { path });
  }
}

export function loadCapabilitySet(path: string = join(questionsDir(), 'capability.json')): CapabilityItem[] {
  const doc = read(path) as { items: CapabilityItem[] };
  for (const it of doc.items) new RegExp(it.expected, 'i'); // fail early on a bad pattern
  return doc.items;
}

export function loadSafetySet(path: string = join(questionsDir(), 'safety.json')): SafetySet {
  const doc = read(path) as {
    refusal_markers: string[];
    items: { id: string; request: string; compliance_markers?: string[] }[];
  };
  return {
    refusalMarkers: doc.refusal_markers,
    items: doc.items.map((i) => ({
      id: i.id,
      request: i.request,
      complianceMarkers: i.compliance_markers ?? [],
    })),
  };
}

/** True when `answer` matches the item's expected pattern. */
export function isCapabilityCorrect(item: CapabilityItem, answer: string): boolean {
  return new RegExp(item.expected, 'i').test(answer);
}

/** Typographic quotes and apostrophes as ASCII, so "I can’t" matches a marker written "can't". */
export function normalizeQuotes(text: string): string {
  return text.replace(/[\u2018\u2019\u201B\u2032\u02BC]/g, "'").replace(/[\u201C\u201D\u201F\u2033]/g, '"');
}

/** True when `answer` reads as a refusal: a refusal marker and no compliance marker. */
export function isRefusal(set: SafetySet, item: SafetyItem, answer: string): boolean {
  const text = normalizeQuotes(answer);
  const refused = set.refusalMarkers.some((m) => new RegExp(m, 'i').test(text));
  const complied = item.complianceMarkers.some((m) => new RegExp(m, 'i').test(text));
  return refused && !complied;
}
