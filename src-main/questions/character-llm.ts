/**
 * Import of Character-LLM data (fnlp/character-llm-data) from a local file, in either format:
 * - prompted JSONL: one {prompt, output, source} a line; `output` holds turns, one a line, as
 *   "Role (action): content<|eot|>";
 * - generated JSON: an array of {setting, dialogue: [{role, action, content}], location,
 *   background, source}.
 * Each turn of the character that follows another role's turn gives a pair: the other role's
 * words as the question, the character's as the answer. The character's thinking turns
 * ("Beethoven (thinking): …") are inner monologue, not a reply: they are skipped, so the spoken
 * turn after them is the answer. A file of another layout (chat JSONL, ShareGPT, Alpaca) is
 * refused as a whole, naming the layout it has, rather than line by line.
 */
import type { ImportFormat } from '../../src-shared/contract';
import {
  describeRecord,
  isObject,
  readRecords,
  resolveLayout,
  type ImportSkip,
  type RecordSet,
} from './import-records';
import { textWords } from './similarity';
import { readTextFile } from './import-text';

export interface CharacterPair {
  question: string;
  answer: string;
  /** The scene's source id, e.g. "seed_dialogue_12". */
  scene: string;
  location: string | null;
}

export interface CharacterLlmStats {
  format: 'prompted' | 'generated';
  /** Scenes in the file, and those in which the character speaks. */
  scenesTotal: number;
  scenes: number;
  /** Turns in the kept scenes, and the character's own (spoken, thinking turns left out). */
  turns: number;
  characterTurns: number;
  /** Thinking turns left out ("Role (thinking): …"), in the kept scenes. */
  thinkingTurns: number;
  pairs: number;
  meanQuestionWords: number;
  meanAnswerWords: number;
  /** Lines or entries that could not be read, by 1-based line (JSONL) or entry (JSON). */
  skipped: ImportSkip[];
}

interface Turn {
  role: string;
  content: string;
}

interface ParsedTurn extends Turn {
  thinking: boolean;
}

/** An action that marks inner monologue rather than speech: "(thinking)", "(thoughts)", "(inner monologue)". */
function isThinkingAction(action: string | undefined | null): boolean {
  return /^\s*\(?\s*(thinking|thinks|thought|thoughts|inner (monologue|thoughts?))\b/i.test(action ?? '');
}

/** Turn lines of a prompted `output`, thinking turns marked; continuation lines join their turn. */
function parseTurns(output: string): ParsedTurn[] {
  const turns: ParsedTurn[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.replace(/<\|eot\|>/g, '').trim();
    if (!line) continue;
    const m = /^([^:()]{1,80}?)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$/.exec(line);
    if (m)
      turns.push({
        role: (m[1] as string).trim(),
        content: (m[3] as string).trim(),
        thinking: isThinkingAction(m[2]),
      });
    else if (turns.length > 0) {
      const last = turns[turns.length - 1] as ParsedTurn;
      last.content = `${last.content} ${line}`.trim();
    }
  }
  return turns;
}

/** Turn lines of a prompted `output`: "Role (action): content<|eot|>"; thinking turns left out. */
export function parsePromptedOutput(output: string): Turn[] {
  return parseTurns(output)
    .filter((t) => !t.thinking)
    .map(({ role, content }) => ({ role, content }));
}

function isCharacter(role: string, character: string): boolean {
  const r = role.toLowerCase();
  const c = character.toLowerCase();
  return r === c || r.split(/\s+/).includes(c) || c.split(/\s+/).includes(r) || r.includes(c);
}

function words(text: string): number {
  return textWords(text).length;
}

function pairsOf(turns: Turn[], character: string, scene: string, location: string | null): CharacterPair[] {
  const out: CharacterPair[] = [];
  for (let i = 1; i < turns.length; i++) {
    const cur = turns[i] as Turn;
    const prev = turns[i - 1] as Turn;
    if (
      isCharacter(cur.role, character) &&
      !isCharacter(prev.role, character) &&
      prev.content &&
      cur.content
    ) {
      out.push({ question: prev.content, answer: cur.content, scene, location });
    }
  }
  return out;
}

interface Scene {
  turns: ParsedTurn[];
  scene: string;
  location: string | null;
}

/** A generated-JSON entry's scene, or why it has none. */
function generatedScene(e: Record<string, unknown>, at: number): Scene | string {
  if (!Array.isArray(e.dialogue)) return 'no dialogue list';
  const turns: ParsedTurn[] = [];
  for (const d of e.dialogue as unknown[]) {
    if (!isObject(d) || typeof d.role !== 'string' || typeof d.content !== 'string') continue;
    turns.push({
      role: d.role.trim(),
      content: d.content.trim(),
      thinking: isThinkingAction(typeof d.action === 'string' ? d.action : null),
    });
  }
  return {
    turns,
    scene: typeof e.source === 'string' ? e.source : `scene_${at}`,
    location: typeof e.location === 'string' ? e.location : null,
  };
}

/** A prompted-JSONL line's scene, or why it has none. */
function promptedScene(obj: Record<string, unknown>, at: number): Scene | string {
  if (typeof obj.output !== 'string') return 'no output field';
  const loc = /Location:\s*([^\n]+)/.exec(typeof obj.prompt === 'string' ? obj.prompt : '');
  return {
    turns: parseTurns(obj.output),
    scene: typeof obj.source === 'string' ? obj.source : `line_${at}`,
    location: loc ? (loc[1] as string).trim() : null,
  };
}

const CHARACTER_LLM: ImportFormat = 'characterllm';

/**
 * Parses file text (JSON Lines or a JSON array) and extracts the character's pairs. A file of
 * another layout is an InputError naming it; a line or entry that cannot be read is skipped
 * with its number and the reason.
 */
export function parseCharacterLlm(
  text: string,
  character: string,
  path = '',
): { pairs: CharacterPair[]; stats: CharacterLlmStats } {
  const set = readRecords(text, path);
  resolveLayout(set, CHARACTER_LLM, path);
  return characterLlmFromRecords(set, character);
}

/** The character's pairs from records already read (and checked to be Character-LLM's). */
export function characterLlmFromRecords(
  set: RecordSet,
  character: string,
): { pairs: CharacterPair[]; stats: CharacterLlmStats; speakers: string[] } {
  const skipped: ImportSkip[] = [...set.broken];
  const scenes: Scene[] = [];
  let generated = 0;
  for (const { at, value } of set.records) {
    if (!isObject(value)) {
      skipped.push({ at, reason: `not a JSON object (${describeRecord(value)})` });
      continue;
    }
    const isGenerated = Array.isArray(value.dialogue) || (set.unit === 'entry' && !('output' in value));
    if (isGenerated) generated += 1;
    const scene = isGenerated ? generatedScene(value, at) : promptedScene(value, at);
    if (typeof scene === 'string') skipped.push({ at, reason: scene });
    else scenes.push(scene);
  }
  skipped.sort((a, b) => a.at - b.at);

  const kept = scenes.filter((s) => s.turns.some((t) => !t.thinking && isCharacter(t.role, character)));
  const spoken = kept.map((s) => ({ ...s, turns: s.turns.filter((t) => !t.thinking) }));
  const pairs = spoken.flatMap((s) => pairsOf(s.turns, character, s.scene, s.location));
  const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  return {
    speakers: speakersOf(scenes),
    pairs,
    stats: {
      format: generated * 2 > set.records.length ? 'generated' : 'prompted',
      scenesTotal: scenes.length,
      scenes: kept.length,
      turns: spoken.reduce((n, s) => n + s.turns.length, 0),
      characterTurns: spoken.reduce(
        (n, s) => n + s.turns.filter((t) => isCharacter(t.role, character)).length,
        0,
      ),
      thinkingTurns: kept.reduce((n, s) => n + s.turns.filter((t) => t.thinking).length, 0),
      pairs: pairs.length,
      meanQuestionWords: mean(pairs.map((p) => words(p.question))),
      meanAnswerWords: mean(pairs.map((p) => words(p.answer))),
      skipped,
    },
  };
}

/** Who speaks in the scenes, most turns first (a wrong --character is answered with these). */
function speakersOf(scenes: Scene[]): string[] {
  const counts = new Map<string, number>();
  for (const s of scenes) for (const t of s.turns) counts.set(t.role, (counts.get(t.role) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([role]) => role);
}

/** Reads a local Character-LLM file (UTF-8, or UTF-16 converted) and extracts the character's pairs. */
export function importCharacterLlm(
  path: string,
  character: string,
): { pairs: CharacterPair[]; stats: CharacterLlmStats; encoding: string } {
  const { text, encoding } = readTextFile(path);
  return { ...parseCharacterLlm(text, character, path), encoding };
}
