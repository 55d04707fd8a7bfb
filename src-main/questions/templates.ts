/** Question templates and slot vocabularies shipped in resources/questions/. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resourcesDir } from '../personas/library';
import { StudioError, errorText } from '../core/errors';

export interface QuestionTemplate {
  id: string;
  category: string;
  /** Text with {slot} placeholders; {slot2} takes a second value of slot, different from the first. */
  text: string;
}

export interface TemplateSet {
  categories: string[];
  templates: QuestionTemplate[];
}

/** Slot name -> values. */
export type Vocabulary = Record<string, string[]>;

/** A question resource or import file that cannot be read or parsed. */
export class QuestionsError extends StudioError {
  constructor(message: string, detail: Record<string, unknown> = {}) {
    super(message, typeof detail.path === 'string' ? 'io' : 'invalid_input', detail);
  }
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new QuestionsError(`Cannot read ${path}: ${errorText(err)}`, { path });
  }
}

export function questionsDir(): string {
  return join(resourcesDir(), 'questions');
}

export function loadTemplates(path: string = join(questionsDir(), 'templates.json')): TemplateSet {
  const doc = readJson<{ categories?: string[]; templates?: QuestionTemplate[] }>(path);
  const templates = doc.templates ?? [];
  const categories = doc.categories ?? [...new Set(templates.map((t) => t.category))];
  return { categories, templates };
}

/** The persona's vocabulary (vocab/<id>.json), or the generic one for personas without their own. */
export function loadVocabulary(personaId: string, dir: string = join(questionsDir(), 'vocab')): Vocabulary {
  const own = join(dir, `${personaId}.json`);
  return readJson<Vocabulary>(existsSync(own) ? own : join(dir, 'generic.json'));
}

const SLOT = /\{([a-z_]+?)(2)?\}/g;

/** The slots a template uses, e.g. ["work", "work2"]. */
export function templateSlots(text: string): { name: string; second: boolean }[] {
  return [...text.matchAll(SLOT)].map((m) => ({ name: m[1] as string, second: m[2] === '2' }));
}

/**
 * Every filling of a template (at most `cap`), in slot-value order. A template whose slot is
 * missing from the vocabulary yields nothing; {x2} never repeats the value chosen for {x}.
 */
export function fillTemplate(template: QuestionTemplate, vocab: Vocabulary, cap = 2000): string[] {
  const slots = templateSlots(template.text);
  if (slots.length === 0) return [template.text];
  const distinct = [...new Set(slots.map((s) => `${s.name}${s.second ? '2' : ''}`))];
  for (const key of distinct) if (!vocab[key.replace(/2$/, '')]?.length) return [];
  const out: string[] = [];
  const choice: Record<string, string> = {};
  const walk = (i: number): void => {
    if (out.length >= cap) return;
    if (i === distinct.length) {
      out.push(
        template.text.replace(SLOT, (_m, name: string, two?: string) => choice[`${name}${two ?? ''}`] ?? ''),
      );
      return;
    }
    const key = distinct[i] as string;
    const base = key.replace(/2$/, '');
    for (const v of vocab[base] ?? []) {
      if (key.endsWith('2') && choice[base] === v) continue;
      choice[key] = v;
      walk(i + 1);
    }
  };
  walk(0);
  return out.map((q) => q.charAt(0).toUpperCase() + q.slice(1));
}
