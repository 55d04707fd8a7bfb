/**
 * Question -> answer pairs from chat JSONL, ShareGPT and Alpaca records. Every assistant reply
 * that follows a user message gives a pair; system messages are dropped (the student learns to
 * answer without one) and counted. A teacher's reasoning (<think>…</think>) is cut out of the
 * answer, which is marked. A record that gives no pair is skipped with its line and the reason.
 */
import { splitThinking } from '../providers/thinking';
import {
  describeRecord,
  isObject,
  type ImportRecord,
  type ImportSkip,
  type RecordSet,
} from './import-records';

export interface ImportedPair {
  question: string;
  answer: string;
  /** Where it came from: "line 12" / "entry 12" (", turn 2" for a later turn), or a scene id. */
  source: string;
  /** The answer had reasoning, cut out. */
  thinking?: boolean;
  /** Character-LLM: the scene's location. */
  location?: string | null;
  /**
   * A later turn of a conversation: the user and assistant turns before its question (system
   * turns left out). Such a question leans on them ("Did you find it yourself?"), so it is
   * never held out for evaluation on its own.
   */
  history?: { role: 'user' | 'assistant'; content: string }[];
}

export interface PairsFromRecords {
  pairs: ImportedPair[];
  skipped: ImportSkip[];
  /** Records with a system message (dropped). */
  systemPrompts: number;
}

type Role = 'user' | 'assistant' | 'system' | 'other';
interface Turn {
  role: Role;
  content: string;
}

/** Text of a message's content: a string, or a list of parts ({"type": "text", "text"}). */
function textOf(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return null;
  const parts = content
    .map((p) => (typeof p === 'string' ? p : isObject(p) && typeof p.text === 'string' ? p.text : null))
    .filter((p): p is string => p !== null);
  return parts.length ? parts.join('\n') : null;
}

const SHAREGPT_ROLES: Readonly<Record<string, Role>> = {
  human: 'user',
  user: 'user',
  gpt: 'assistant',
  assistant: 'assistant',
  model: 'assistant',
  bot: 'assistant',
  chatgpt: 'assistant',
  system: 'system',
};

function chatTurns(value: Record<string, unknown>): Turn[] | string {
  const messages = value.messages;
  if (!Array.isArray(messages)) return 'no "messages" list';
  const turns: Turn[] = [];
  for (const [i, m] of messages.entries()) {
    if (!isObject(m)) return `message ${i + 1} is ${describeRecord(m)}`;
    const content = textOf(m.content);
    if (typeof m.role !== 'string' || content === null)
      return `message ${i + 1} has no "role" and text "content"`;
    const role = m.role.toLowerCase();
    turns.push({
      role: role === 'user' || role === 'assistant' || role === 'system' ? role : 'other',
      content,
    });
  }
  return turns;
}

function shareGptTurns(value: Record<string, unknown>): Turn[] | string {
  const list = value.conversations ?? value.conversation;
  if (!Array.isArray(list)) return 'no "conversations" list';
  const turns: Turn[] = [];
  if (typeof value.system === 'string' && value.system.trim())
    turns.push({ role: 'system', content: value.system });
  for (const [i, m] of list.entries()) {
    if (!isObject(m)) return `turn ${i + 1} is ${describeRecord(m)}`;
    const who = typeof m.from === 'string' ? m.from : typeof m.role === 'string' ? m.role : null;
    const content = textOf(m.value ?? m.content);
    if (who === null || content === null) return `turn ${i + 1} has no "from" and text "value"`;
    turns.push({ role: SHAREGPT_ROLES[who.toLowerCase()] ?? 'other', content });
  }
  return turns;
}

function alpacaTurns(value: Record<string, unknown>): Turn[] | string {
  const output = value.output ?? value.response;
  if (typeof value.instruction !== 'string' || typeof output !== 'string')
    return 'no text "instruction" and "output"';
  const input = typeof value.input === 'string' ? value.input.trim() : '';
  const turns: Turn[] = [];
  if (typeof value.system === 'string' && value.system.trim())
    turns.push({ role: 'system', content: value.system });
  turns.push({
    role: 'user',
    content: input ? `${value.instruction.trim()}\n\n${input}` : value.instruction,
  });
  turns.push({ role: 'assistant', content: output });
  return turns;
}

const READERS = { chat: chatTurns, sharegpt: shareGptTurns, alpaca: alpacaTurns } as const;

/** The pairs of one record, or why it gives none. */
function pairsOfRecord(
  record: ImportRecord,
  unit: 'line' | 'entry',
  read: (value: Record<string, unknown>) => Turn[] | string,
): { pairs: ImportedPair[]; system: boolean } | string {
  if (!isObject(record.value)) return `not a JSON object (${describeRecord(record.value)})`;
  const turns = read(record.value);
  if (typeof turns === 'string') return turns;
  const pairs: ImportedPair[] = [];
  let emptied = 0;
  for (let i = 1; i < turns.length; i++) {
    const cur = turns[i] as Turn;
    const prev = turns[i - 1] as Turn;
    if (cur.role !== 'assistant' || prev.role !== 'user') continue;
    const { text, thinking } = splitThinking(cur.content);
    const question = prev.content.trim();
    if (!question) continue;
    if (!text.trim()) {
      emptied += 1;
      continue;
    }
    const history = turns
      .slice(0, i - 1)
      .filter((t): t is Turn & { role: 'user' | 'assistant' } => t.role === 'user' || t.role === 'assistant')
      .map((t) => ({
        role: t.role,
        content: (t.role === 'assistant' ? splitThinking(t.content).text : t.content).trim(),
      }));
    pairs.push({
      question,
      answer: text.trim(),
      source: `${unit} ${record.at}${pairs.length > 0 ? `, turn ${pairs.length + 1}` : ''}`,
      ...(thinking ? { thinking: true } : {}),
      ...(history.length > 0 ? { history } : {}),
    });
  }
  if (pairs.length === 0)
    return emptied > 0
      ? 'the answer is all reasoning (<think>…): no spoken reply'
      : 'no user message answered by the assistant';
  return { pairs, system: turns.some((t) => t.role === 'system') };
}

export function pairsFromRecords(set: RecordSet, format: keyof typeof READERS): PairsFromRecords {
  const pairs: ImportedPair[] = [];
  const skipped: ImportSkip[] = [...set.broken];
  let systemPrompts = 0;
  for (const record of set.records) {
    const got = pairsOfRecord(record, set.unit, READERS[format]);
    if (typeof got === 'string') {
      skipped.push({ at: record.at, reason: got });
      continue;
    }
    pairs.push(...got.pairs);
    if (got.system) systemPrompts += 1;
  }
  skipped.sort((a, b) => a.at - b.at);
  return { pairs, skipped, systemPrompts };
}
