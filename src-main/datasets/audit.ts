/**
 * Dataset audit: length distribution, keyword presence, duplicates, category balance, and
 * quality filters. A filtered example is kept in the store with its reasons (flags) and
 * excluded from the split; nothing is deleted.
 */
import type { AuditSummary } from '../../src-shared/contract';
import {
  DuplicateIndex,
  NEAR_DUPLICATE_THRESHOLD,
  startsSpaceless,
  textWords,
} from '../questions/similarity';
import type { AuditResult, Store } from '../store';

export const AUDIT_FLAGS = [
  'empty',
  'too_short',
  'too_long',
  'repetition_loop',
  'role_contamination',
  'json_wrapped',
  'out_of_character_refusal',
  'duplicate',
  'near_duplicate',
  'thinking',
  'truncated',
] as const;
export type AuditFlag = (typeof AUDIT_FLAGS)[number];

/**
 * Flags that say something about an answer without excluding it: 'thinking' (the teacher
 * reasoned first; the reasoning was cut out and the spoken answer is what is kept and trained on).
 */
export const NOTE_FLAGS: readonly AuditFlag[] = ['thinking'];

export interface AuditOptions {
  /** The persona's keywords; presence is a case-insensitive word-prefix match ("compose" matches "composer"). */
  keywords: string[];
  /** Fewer words than this is too_short (default 20). */
  minWords?: number;
  /** More words than this is too_long (default 400). */
  maxWords?: number;
  /** Share of an answer's words covered by its most repeated word 3-gram that marks a loop (default 0.3). */
  repetitionShare?: number;
  nearDuplicateThreshold?: number;
  /** The teacher's length budget (new tokens): an answer that used all of it is flagged truncated. */
  maxNewTokens?: number;
  /** Keep truncated answers out of training (else the flag only counts them). */
  dropTruncated?: boolean;
}

export interface AuditInput {
  id: number;
  category: string;
  answer: string;
  /** The teacher's reasoning was cut out of this answer. */
  thinking?: boolean;
  /** The answer hit the length limit instead of ending on its own. */
  truncated?: boolean;
}

const ROLE_MARKERS = [
  /(^|\n)\s*(user|assistant|human|system|ai)\s*:/i,
  // A capitalised speaker tag mid-line: the model went on to write the next turn itself.
  /\b(User|Assistant|Human):/,
  /<\|im_(start|end)\|>/,
  /<\|(eot|eot_id|endoftext|end_of_text|start_header_id|end_header_id)\|>/,
  /\[\/?INST\]/,
  /<\/?s>/,
];

const OOC_MARKERS = [
  /\bas an ai\b/i,
  /\bi('| a)m (just |only )?an? (ai|artificial intelligence|language model|large language model|virtual assistant|ai assistant|chatbot)\b/i,
  /\bas a (large )?language model\b/i,
  /\bi (cannot|can't|can not|am unable to|won't) (role-?play|pretend to be|impersonate)\b/i,
  /\bi('| a)m not able to (role-?play|pretend)\b/i,
  /\b(openai|chatgpt|anthropic)\b/i,
  /\bi don'?t have (personal )?(feelings|emotions|a body|personal experiences)\b/i,
];

/** Whitespace-separated words; a Han or kana character counts as one word (no spaces there). */
export function words(text: string): string[] {
  return textWords(text);
}

/** Share of words covered by the most frequent word 3-gram, when it occurs at least 3 times. */
export function repetitionShare(text: string): number {
  const ws = words(text.toLowerCase().replace(/[^\p{L}\p{N}\s']/gu, ' '));
  if (ws.length < 9) return 0;
  // Words as small integers, a 3-gram as one exact number (v < ws.length, so v^3 < 2^53).
  const ids = new Map<string, number>();
  const seq = ws.map((w) => {
    let id = ids.get(w);
    if (id === undefined) ids.set(w, (id = ids.size));
    return id;
  });
  const v = ids.size;
  const counts = new Map<number, number>();
  let best = 0;
  for (let i = 0; i + 3 <= seq.length; i++) {
    const k = ((seq[i] as number) * v + (seq[i + 1] as number)) * v + (seq[i + 2] as number);
    const c = (counts.get(k) ?? 0) + 1;
    counts.set(k, c);
    if (c > best) best = c;
  }
  return best >= 3 ? Math.min(1, (best * 3) / ws.length) : 0;
}

export function isJsonWrapped(text: string): boolean {
  const t = text.trim();
  if (/^```(json)?\s*[{[]/i.test(t)) return true;
  if (!((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']')))) return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}

export function hasKeyword(text: string, keywords: readonly string[]): boolean {
  const lower = text.toLowerCase();
  return keywords.some((k) => {
    const kw = k.toLowerCase().trim();
    if (!kw) return false;
    const esc = kw.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // Chinese and Japanese put no space before a word: a keyword in those scripts matches anywhere.
    if (startsSpaceless(kw)) return lower.includes(kw);
    return new RegExp(`(^|[^\\p{L}])${esc}`, 'u').test(lower);
  });
}

/** Flags of one answer, without the duplicate checks (which need the whole set). */
export function flagAnswer(answer: string, opts: AuditOptions): AuditFlag[] {
  const flags: AuditFlag[] = [];
  const n = words(answer).length;
  if (answer.trim() === '') return ['empty'];
  if (n < (opts.minWords ?? 20)) flags.push('too_short');
  if (n > (opts.maxWords ?? 400)) flags.push('too_long');
  if (repetitionShare(answer) >= (opts.repetitionShare ?? 0.3)) flags.push('repetition_loop');
  if (ROLE_MARKERS.some((r) => r.test(answer))) flags.push('role_contamination');
  if (isJsonWrapped(answer)) flags.push('json_wrapped');
  if (OOC_MARKERS.some((r) => r.test(answer))) flags.push('out_of_character_refusal');
  return flags;
}

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Mean, median, population std, min and max; zeros for an empty list. */
export function distribution(xs: readonly number[]): AuditSummary['length'] {
  if (xs.length === 0) return { mean: 0, median: 0, std: 0, min: 0, max: 0 };
  const sorted = [...xs].sort((a, b) => a - b);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  return {
    mean: round(mean),
    median,
    std: round(std),
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
  };
}

/**
 * Audits examples in order: the first of a duplicate group stays, later ones are flagged.
 * Summary: `length` covers every example (words); `keywordPresence` and `categories` cover the
 * kept examples, i.e. what the student will learn from.
 */
export function auditExamples(
  examples: readonly AuditInput[],
  opts: AuditOptions,
): { results: AuditResult[]; summary: AuditSummary } {
  const index = new DuplicateIndex(opts.nearDuplicateThreshold ?? NEAR_DUPLICATE_THRESHOLD);
  let exactDuplicates = 0;
  let nearDuplicates = 0;
  const results: AuditResult[] = examples.map((ex) => {
    const flags: string[] = flagAnswer(ex.answer, opts);
    if (ex.thinking) flags.push('thinking');
    // Cut off at the length limit: a student trained on it never learns where an answer ends.
    if (ex.truncated) flags.push('truncated');
    if (ex.answer.trim() !== '') {
      // Only originals enter the index: a duplicate adds nothing new to compare against.
      const dup = index.addIfNew(ex.answer);
      if (dup?.kind === 'exact') {
        flags.push('duplicate');
        exactDuplicates++;
      } else if (dup?.kind === 'near') {
        flags.push('near_duplicate');
        nearDuplicates++;
      }
    }
    const kept = flags.every(
      (f) =>
        (NOTE_FLAGS as readonly string[]).includes(f) || (f === 'truncated' && opts.dropTruncated !== true),
    );
    return { exampleId: ex.id, flags, kept };
  });
  const flagged: Record<string, number> = {};
  for (const r of results) for (const f of r.flags) flagged[f] = (flagged[f] ?? 0) + 1;
  const keptIdx = results.map((r, i) => (r.kept ? i : -1)).filter((i) => i >= 0);
  const categories: Record<string, number> = {};
  let withKeyword = 0;
  for (const i of keptIdx) {
    const ex = examples[i] as AuditInput;
    categories[ex.category] = (categories[ex.category] ?? 0) + 1;
    if (hasKeyword(ex.answer, opts.keywords)) withKeyword++;
  }
  return {
    results,
    summary: {
      total: examples.length,
      kept: keptIdx.length,
      flagged,
      length: distribution(examples.map((e) => words(e.answer).length)),
      keywordPresence: keptIdx.length ? round(withKeyword / keptIdx.length) : 0,
      exactDuplicates,
      nearDuplicates,
      categories,
    },
  };
}

/** Audits a run's teacher examples and saves results and summary in the store. */
export function auditRun(store: Store, runId: string, opts: AuditOptions): AuditSummary {
  const rows = store.examples.listByRun(runId);
  const { results, summary } = auditExamples(
    rows.map((r) => ({
      id: r.id,
      category: r.category,
      answer: r.answer,
      thinking: r.thinking === true,
      // The stop token counts in completion_tokens, so an answer that ended is always shorter.
      truncated: opts.maxNewTokens !== undefined && r.completionTokens >= opts.maxNewTokens,
    })),
    opts,
  );
  store.audit.save(runId, results, summary);
  return summary;
}
