/**
 * The files `character eval classifier` and `character eval elo` read (JSON Lines), in the
 * layouts Open Character Studio and this app write:
 *   classifier rows: {"text"|"response", "label"} (1/0, true/false, "in"/"out",
 *                    "persona"/"neutral"), a chat row {"messages": [...], "label"} (its last
 *                    assistant turn), or a DPO pair {"chosen", "rejected"} (chosen 1, rejected 0);
 *   matches:         {"a", "b", "winner": "a"|"b"|"tie"}, {"player_a"|"model_a", "player_b"|
 *                    "model_b", "winner": a name|"tie"}, or Open Character Studio's Match
 *                    {"prompt", "base_response", "tuned_response", "winner": "base"|"tuned"|"tie"}
 *                    (winner may be missing when a judge is to decide).
 * Every problem names the file and line.
 */
import { InputError } from '../core/errors';
import type { PairwiseJudgement } from './elo';

export interface LabelledText {
  text: string;
  label: 0 | 1;
}

function fail(path: string, line: number, message: string): never {
  throw new InputError(`${path}:${line}: ${message}`, { path, line });
}

function labelOf(raw: unknown, path: string, line: number): 0 | 1 {
  if (raw === 1 || raw === true) return 1;
  if (raw === 0 || raw === false) return 0;
  if (typeof raw === 'string') {
    const s = raw.trim().toLowerCase();
    if (['1', 'in', 'persona', 'character', 'in_character', 'positive', 'true'].includes(s)) return 1;
    if (['0', 'out', 'neutral', 'base', 'generic', 'out_of_character', 'negative', 'false'].includes(s))
      return 0;
  }
  return fail(
    path,
    line,
    `"label" must be 1/0, true/false, in/out or persona/neutral, not ${JSON.stringify(raw)}`,
  );
}

function lastAssistant(messages: unknown): string | null {
  if (!Array.isArray(messages)) return null;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown } | null;
    if (m && m.role === 'assistant' && typeof m.content === 'string') return m.content;
  }
  return null;
}

/** Labelled texts from parsed JSONL rows (`line` numbers are 1-based, as in the file). */
export function classifierExamples(
  rows: readonly { line: number; value: unknown }[],
  path: string,
): LabelledText[] {
  const out: LabelledText[] = [];
  for (const { line, value } of rows) {
    const r = value as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null || Array.isArray(r))
      fail(path, line, 'each line must be a JSON object');
    if (typeof r.chosen === 'string' && typeof r.rejected === 'string') {
      out.push({ text: r.chosen, label: 1 }, { text: r.rejected, label: 0 });
      continue;
    }
    const text =
      typeof r.text === 'string'
        ? r.text
        : typeof r.response === 'string'
          ? r.response
          : lastAssistant(r.messages);
    if (text === null || text.trim() === '')
      fail(path, line, 'no text: give "text", "response", chat "messages" or a "chosen"/"rejected" pair');
    out.push({ text, label: labelOf(r.label, path, line) });
  }
  if (out.length === 0) throw new InputError(`${path}: no examples`, { path });
  return out;
}

/** One match: the players, and the winner when the file says it (else a judge decides). */
export interface EloMatch {
  line: number;
  a: string;
  b: string;
  winner: PairwiseJudgement['winner'] | null;
  /** Open Character Studio's Match: what a judge needs to decide. */
  prompt?: string;
  answers?: { a: string; b: string };
}

function winnerOf(raw: unknown, a: string, b: string, path: string, line: number): EloMatch['winner'] {
  if (raw === undefined || raw === null || raw === '') return null;
  if (typeof raw !== 'string') return fail(path, line, '"winner" must be text');
  const w = raw.trim();
  if (w.toLowerCase() === 'tie' || w.toLowerCase() === 'draw') return 'tie';
  if (w === a || w.toLowerCase() === 'a') return 'a';
  if (w === b || w.toLowerCase() === 'b') return 'b';
  return fail(
    path,
    line,
    `"winner" must be ${JSON.stringify(a)}, ${JSON.stringify(b)}, a, b or tie, not ${JSON.stringify(raw)}`,
  );
}

export function eloMatches(rows: readonly { line: number; value: unknown }[], path: string): EloMatch[] {
  const out: EloMatch[] = [];
  for (const { line, value } of rows) {
    const r = value as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null || Array.isArray(r))
      fail(path, line, 'each line must be a JSON object');
    if (typeof r.base_response === 'string' && typeof r.tuned_response === 'string') {
      const winner =
        r.winner === 'base'
          ? 'a'
          : r.winner === 'tuned'
            ? 'b'
            : winnerOf(r.winner, 'base', 'tuned', path, line);
      out.push({
        line,
        a: 'base',
        b: 'tuned',
        winner,
        prompt: typeof r.prompt === 'string' ? r.prompt : '',
        answers: { a: r.base_response, b: r.tuned_response },
      });
      continue;
    }
    const a = r.a ?? r.player_a ?? r.model_a;
    const b = r.b ?? r.player_b ?? r.model_b;
    if (typeof a !== 'string' || typeof b !== 'string' || !a || !b)
      fail(path, line, 'name both players: "a" and "b" (or player_a/player_b, model_a/model_b)');
    const winner = winnerOf(r.winner, a, b, path, line);
    if (winner === null) fail(path, line, '"winner" is missing');
    out.push({ line, a, b, winner });
  }
  if (out.length === 0) throw new InputError(`${path}: no matches`, { path });
  return out;
}

/** Wins, losses and ties per player. */
export function records(
  judgements: readonly PairwiseJudgement[],
): Record<string, { wins: number; losses: number; ties: number }> {
  const out: Record<string, { wins: number; losses: number; ties: number }> = {};
  const get = (p: string): { wins: number; losses: number; ties: number } =>
    (out[p] ??= { wins: 0, losses: 0, ties: 0 });
  for (const j of judgements) {
    if (j.winner === 'tie') {
      get(j.a).ties++;
      get(j.b).ties++;
    } else {
      get(j.winner === 'a' ? j.a : j.b).wins++;
      get(j.winner === 'a' ? j.b : j.a).losses++;
    }
  }
  return out;
}
