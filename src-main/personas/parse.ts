/**
 * Persona ("constitution") parsing, validation and rendering. Two formats:
 * - yaml: meta{id?,name,version,description}, persona{identity}, directives{<section>: [..]},
 *   safety{refusals[]}, signoffs[], keywords[], examples[{question, answer}] (the layout of Open
 *   Character Studio's structured constitutions, plus optional meta.id, keywords and examples:
 *   in-character exemplars that only the teacher sees, at the end of its prompt; and optional
 *   traits[], short trait words revealed preferences compare, never shown to the model);
 * - text: a hand-written system prompt, used as it is. A first line "# Name" or "Name: X" names it.
 * Validation reports every problem with its 1-based line and dotted field path.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { ValidationIssue } from '../../src-shared/contract';
import { slugify } from './slug';
import { yamlSyntaxIssues } from './yaml-errors';

export { slugify };

export type PersonaFormat = 'yaml' | 'text';

export interface StructuredPersona {
  meta: { id?: string; name: string; version: number; description: string };
  persona: { identity: string };
  /** Section name -> lines, in file order (personality, behavior, constraints, speech_patterns, ...). */
  directives: Record<string, string[]>;
  safety: { refusals: string[] };
  signoffs: string[];
  keywords: string[];
  /** In-character question/answer exemplars, shown to the teacher only. */
  examples: { question: string; answer: string }[];
  /** Short trait words ("proud", "curious") for revealed preferences; metadata, not in the prompt. */
  traits?: string[];
}

export interface ParsedPersona {
  id: string;
  name: string;
  description: string;
  format: PersonaFormat;
  /** The declared version (yaml meta.version); the store keeps its own version count. */
  declaredVersion: number;
  /** Present for yaml personas. */
  structured: StructuredPersona | null;
  systemPrompt: string;
  keywords: string[];
}

export interface ParseResult {
  persona: ParsedPersona | null;
  issues: ValidationIssue[];
}

const TOP_LEVEL_FIELDS = [
  'meta',
  'persona',
  'directives',
  'safety',
  'signoffs',
  'keywords',
  'examples',
  'traits',
] as const;

/** Whitespace-separated words. */
export function wordCount(text: string): number {
  const t = text.trim();
  return t === '' ? 0 : t.split(/\s+/).length;
}

/**
 * Tokens of a persona's system prompt under some model's tokenizer. The count itself comes from
 * the engine (count_tokens), passed in by the caller so this module stays pure.
 */
export async function countPromptTokens(
  systemPrompt: string,
  counter: (texts: string[]) => Promise<number[]>,
): Promise<number> {
  const [n] = await counter([systemPrompt]);
  return n ?? 0;
}

class IssueCollector {
  readonly issues: ValidationIssue[] = [];
  constructor(private readonly lines: LineCounter) {}
  lineOf(node: Node | null | undefined): number | null {
    const start = node?.range?.[0];
    return start === undefined ? null : this.lines.linePos(start).line;
  }
  add(node: Node | null | undefined, field: string | null, message: string): void {
    this.issues.push({ line: this.lineOf(node), field, message });
  }
}

/** The key node of `key` in a map: where a missing child of that section is reported. */
function keyNode(map: Node | null, key: string): Node | null {
  if (!isMap(map)) return map;
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
  return pair ? asNode(pair.key) : map;
}

function asNode(value: unknown): Node | null {
  return value && typeof value === 'object' && 'range' in value ? (value as Node) : null;
}

function stringAt(
  doc: Document,
  c: IssueCollector,
  path: (string | number)[],
  opts: { required: boolean; parent: Node | null },
): string | null {
  const field = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i > 0 ? `.${p}` : p)).join('');
  const node = asNode(doc.getIn(path, true));
  if (!node) {
    if (opts.required) c.add(opts.parent, field, `Missing required field "${field}".`);
    return null;
  }
  if (!isScalar(node) || typeof node.value !== 'string') {
    c.add(node, field, `"${field}" must be text.`);
    return null;
  }
  if (opts.required && node.value.trim() === '') {
    c.add(node, field, `"${field}" must not be empty.`);
    return null;
  }
  return node.value.trim();
}

function stringListAt(
  doc: Document,
  c: IssueCollector,
  path: (string | number)[],
  fieldName: string,
): string[] {
  const node = asNode(doc.getIn(path, true));
  if (!node) return [];
  if (!isSeq(node)) {
    c.add(node, fieldName, `"${fieldName}" must be a list of lines ("- ...").`);
    return [];
  }
  const out: string[] = [];
  node.items.forEach((item, i) => {
    const n = asNode(item);
    if (!isScalar(n) || (typeof n.value !== 'string' && typeof n.value !== 'number')) {
      c.add(n ?? node, `${fieldName}[${i}]`, `"${fieldName}[${i}]" must be a line of text.`);
      return;
    }
    const v = String(n.value).trim();
    if (v === '') c.add(n, `${fieldName}[${i}]`, `"${fieldName}[${i}]" is empty.`);
    else out.push(v);
  });
  return out;
}

/** examples: a list of {question, answer} mappings, both non-empty text. */
function examplesAt(doc: Document, c: IssueCollector): { question: string; answer: string }[] {
  const node = asNode(doc.get('examples', true));
  if (!node) return [];
  if (!isSeq(node)) {
    c.add(node, 'examples', '"examples" must be a list of "- question: ... / answer: ..." entries.');
    return [];
  }
  const out: { question: string; answer: string }[] = [];
  node.items.forEach((item, i) => {
    const n = asNode(item);
    const field = `examples[${i}]`;
    if (!isMap(n)) {
      c.add(n ?? node, field, `"${field}" must have a question and an answer.`);
      return;
    }
    for (const pair of n.items) {
      const key = asNode(pair.key);
      const name = isScalar(key) ? String(key.value) : '';
      if (name !== 'question' && name !== 'answer')
        c.add(key, `${field}.${name}`, `Unknown field "${field}.${name}"; expected question and answer.`);
    }
    const question = stringAt(doc, c, ['examples', i, 'question'], { required: true, parent: n });
    const answer = stringAt(doc, c, ['examples', i, 'answer'], { required: true, parent: n });
    if (question !== null && answer !== null) out.push({ question, answer });
  });
  return out;
}

function parseYaml(source: string, fallbackId?: string): ParseResult {
  const lines = new LineCounter();
  const doc = parseDocument(source, { keepSourceTokens: true, lineCounter: lines, prettyErrors: false });
  const c = new IssueCollector(lines);
  if (doc.errors.length > 0) return { persona: null, issues: yamlSyntaxIssues(doc, lines) };
  const root = asNode(doc.contents);
  if (!isMap(root)) {
    c.issues.push({
      line: c.lineOf(root) ?? 1,
      field: null,
      message: 'A YAML persona must be a mapping with meta, persona and directives.',
    });
    return { persona: null, issues: c.issues };
  }
  for (const pair of root.items) {
    const key = asNode(pair.key);
    const name = isScalar(key) ? String(key.value) : '';
    if (!(TOP_LEVEL_FIELDS as readonly string[]).includes(name)) {
      c.add(key, name, `Unknown field "${name}"; expected one of ${TOP_LEVEL_FIELDS.join(', ')}.`);
    }
  }

  const metaNode = asNode(doc.get('meta', true));
  if (!metaNode) c.add(root, 'meta', 'Missing required field "meta" (name, version, description).');
  else if (!isMap(metaNode)) c.add(metaNode, 'meta', '"meta" must be a mapping.');
  const name =
    metaNode && isMap(metaNode)
      ? stringAt(doc, c, ['meta', 'name'], { required: true, parent: keyNode(root, 'meta') })
      : null;
  const description =
    metaNode && isMap(metaNode)
      ? (stringAt(doc, c, ['meta', 'description'], { required: false, parent: keyNode(root, 'meta') }) ?? '')
      : '';
  const idText =
    metaNode && isMap(metaNode)
      ? stringAt(doc, c, ['meta', 'id'], { required: false, parent: keyNode(root, 'meta') })
      : null;
  let version = 1;
  const versionNode = asNode(doc.getIn(['meta', 'version'], true));
  if (versionNode) {
    const v = isScalar(versionNode) ? Number(versionNode.value) : NaN;
    if (!Number.isInteger(v) || v < 1)
      c.add(versionNode, 'meta.version', '"meta.version" must be a whole number >= 1.');
    else version = v;
  }
  if (idText !== null && idText !== slugify(idText)) {
    c.add(
      asNode(doc.getIn(['meta', 'id'], true)),
      'meta.id',
      `"meta.id" must be a slug (lowercase letters, digits, '-'), e.g. "${slugify(idText)}".`,
    );
  }

  const personaNode = asNode(doc.get('persona', true));
  if (!personaNode) c.add(root, 'persona', 'Missing required field "persona" (identity).');
  else if (!isMap(personaNode)) c.add(personaNode, 'persona', '"persona" must be a mapping.');
  const identity =
    personaNode && isMap(personaNode)
      ? stringAt(doc, c, ['persona', 'identity'], { required: true, parent: keyNode(root, 'persona') })
      : null;

  const directives: Record<string, string[]> = {};
  const dirNode = asNode(doc.get('directives', true));
  if (!dirNode)
    c.add(
      root,
      'directives',
      'Missing required field "directives" (personality, behavior, constraints, ...).',
    );
  else if (!isMap(dirNode))
    c.add(dirNode, 'directives', '"directives" must be a mapping of sections to lists.');
  else {
    for (const pair of dirNode.items) {
      const key = asNode(pair.key);
      const section = isScalar(key) ? String(key.value) : '';
      directives[section] = stringListAt(doc, c, ['directives', section], `directives.${section}`);
    }
    if (Object.values(directives).every((l) => l.length === 0)) {
      c.add(dirNode, 'directives', '"directives" needs at least one non-empty section.');
    }
  }

  const safetyNode = asNode(doc.get('safety', true));
  if (safetyNode && !isMap(safetyNode))
    c.add(safetyNode, 'safety', '"safety" must be a mapping with "refusals".');
  const refusals =
    safetyNode && isMap(safetyNode) ? stringListAt(doc, c, ['safety', 'refusals'], 'safety.refusals') : [];
  const signoffs = stringListAt(doc, c, ['signoffs'], 'signoffs');
  const keywords = stringListAt(doc, c, ['keywords'], 'keywords');
  const examples = examplesAt(doc, c);
  const traits = stringListAt(doc, c, ['traits'], 'traits');

  if (c.issues.length > 0 || name === null || identity === null) return { persona: null, issues: c.issues };

  const structured: StructuredPersona = {
    meta: { name, version, description },
    persona: { identity },
    directives,
    safety: { refusals },
    signoffs,
    keywords,
    examples,
    ...(traits.length > 0 ? { traits } : {}),
  };
  if (idText) structured.meta.id = idText;
  const systemPrompt = renderSystemPrompt(structured);
  return {
    persona: {
      id: idText ?? fallbackId ?? slugify(name),
      name,
      description,
      format: 'yaml',
      declaredVersion: version,
      structured,
      systemPrompt,
      keywords: keywords.length > 0 ? keywords : deriveKeywords(systemPrompt, name),
    },
    issues: [],
  };
}

/** Minimum words for a hand-written persona: shorter text cannot describe a character. */
export const MIN_TEXT_WORDS = 20;

function parseText(source: string, fallbackId?: string): ParseResult {
  const text = source.replace(/\r\n/g, '\n').trim();
  const words = wordCount(text);
  if (words < MIN_TEXT_WORDS) {
    return {
      persona: null,
      issues: [
        {
          line: 1,
          field: null,
          message: `A plain-text persona needs at least ${MIN_TEXT_WORDS} words (has ${words}).`,
        },
      ],
    };
  }
  // An optional "Keywords: a, b, c" line lists the audit keywords; the teacher does not see it.
  const kwLine = /^keywords:\s*(.+)$/im.exec(text);
  const listed =
    kwLine?.[1]
      ?.split(',')
      .map((k) => k.trim())
      .filter((k) => k !== '') ?? [];
  const withoutKw = kwLine ? text.replace(kwLine[0], '').trim() : text;
  const first = withoutKw.split('\n', 1)[0] ?? '';
  const header = /^#\s+(.+)$/.exec(first) ?? /^name:\s*(.+)$/i.exec(first);
  const name =
    header?.[1]?.trim() ??
    (fallbackId
      ? fallbackId.replace(/-/g, ' ').replace(/\b\w/g, (m) => m.toUpperCase())
      : first.split(/\s+/).slice(0, 4).join(' '));
  // The header names the persona for the app; the teacher sees the body only.
  const body = header ? withoutKw.slice(first.length).trim() : withoutKw;
  const descLine = body.split('\n').find((l) => l.trim() !== '') ?? '';
  return {
    persona: {
      id: fallbackId ?? slugify(name),
      name,
      description: descLine.length > 160 ? `${descLine.slice(0, 157)}...` : descLine,
      format: 'text',
      declaredVersion: 1,
      structured: null,
      systemPrompt: body,
      keywords: listed.length > 0 ? listed : deriveKeywords(body, name),
    },
    issues: [],
  };
}

/** Parses and validates a persona. `fallbackId` names it when the source does not (e.g. the file name). */
export function parsePersona(source: string, format: PersonaFormat, fallbackId?: string): ParseResult {
  return format === 'yaml' ? parseYaml(source, fallbackId) : parseText(source, fallbackId);
}

export function validatePersona(source: string, format: PersonaFormat): ValidationIssue[] {
  return parsePersona(source, format).issues;
}

/** "speech_patterns" -> "Speech patterns". */
function sectionTitle(key: string): string {
  const t = key.replace(/[_-]+/g, ' ').trim();
  return t.charAt(0).toUpperCase() + t.slice(1);
}

/**
 * The system prompt the teacher sees: identity first, then each directive section as a titled
 * list, then safety and sign-offs, then any exemplars. Keywords are metadata for the audit, not
 * shown to the model. The student never sees any of it: it learns to answer without a prompt.
 */
export function renderSystemPrompt(p: StructuredPersona): string {
  const parts: string[] = [p.persona.identity.trim()];
  for (const [section, lines] of Object.entries(p.directives)) {
    if (lines.length === 0) continue;
    parts.push(`${sectionTitle(section)}:\n${lines.map((l) => `- ${l}`).join('\n')}`);
  }
  if (p.safety.refusals.length > 0) {
    parts.push(`Safety:\n${p.safety.refusals.map((l) => `- ${l}`).join('\n')}`);
  }
  if (p.signoffs.length > 0) {
    parts.push(`Sign-offs you may use now and then:\n${p.signoffs.map((s) => `- "${s}"`).join('\n')}`);
  }
  if (p.examples.length > 0) {
    parts.push(
      `Examples of questions and how you answer them:\n\n${p.examples
        .map((e) => `Q: ${e.question}\nA: ${e.answer}`)
        .join('\n\n')}`,
    );
  }
  return parts.join('\n\n');
}

const STOPWORDS = new Set(
  `about above after again against also always among another any are around because been before being
  below between both but can cannot could did does doing down during each even ever every few from
  further had has have having here hers herself him himself his how into its itself just like made make
  many may more most much must myself never none nor not now off once only other ought our ours
  ourselves out over own same shall she should since some such than that their theirs them themselves
  then there these they this those through too under until upon very was were what when where which
  while who whom why will with within without would you your yours yourself yourselves the and for
  use answer answers question questions user users respond response responses speak speaks speaking
  stay character never keep style tone voice first person refuse refusal harmful request requests
  help helpful give gives world things thing something someone people time nothing anything everything
  know knows known`.split(/\s+/),
);

/** Keywords when a persona lists none: its name's words plus the most frequent content words. */
export function deriveKeywords(text: string, name: string, max = 10): string[] {
  const counts = new Map<string, number>();
  for (const w of text.toLowerCase().match(/[a-zà-ÿ]{4,}/g) ?? []) {
    if (STOPWORDS.has(w)) continue;
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  const nameWords = (name.toLowerCase().match(/[a-zà-ÿ]{3,}/g) ?? []).filter((w) => !STOPWORDS.has(w));
  const ranked = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([w]) => w);
  const out: string[] = [];
  for (const w of [...nameWords, ...ranked]) {
    if (!out.includes(w)) out.push(w);
    if (out.length >= max) break;
  }
  return out;
}
