/**
 * Import of Character-LLM data (fnlp/character-llm-data) from a local file, in either format:
 * - prompted JSONL: one {prompt, output, source} a line; `output` holds turns, one a line, as
 *   "Role (action): content<|eot|>";
 * - generated JSON: an array of {setting, dialogue: [{role, action, content}], location,
 *   background, source}.
 * Each turn of the character that follows another role's turn gives a pair: the other role's
 * words as the question, the character's as the answer.
 */
import { readFileSync } from 'node:fs';
import { QuestionsError } from './templates';

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
  /** Turns in the kept scenes, and the character's own. */
  turns: number;
  characterTurns: number;
  pairs: number;
  meanQuestionWords: number;
  meanAnswerWords: number;
  /** Lines or entries that could not be read, by 1-based line (JSONL) or index (JSON). */
  skipped: { at: number; reason: string }[];
}

interface Turn {
  role: string;
  content: string;
}

/** Turn lines of a prompted `output`: "Role (action): content<|eot|>". */
export function parsePromptedOutput(output: string): Turn[] {
  const turns: Turn[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.replace(/<\|eot\|>/g, '').trim();
    if (!line) continue;
    const m = /^([^:()]{1,80}?)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$/.exec(line);
    if (m) turns.push({ role: (m[1] as string).trim(), content: (m[3] as string).trim() });
    else if (turns.length > 0) {
      const last = turns[turns.length - 1] as Turn;
      last.content = `${last.content} ${line}`.trim();
    }
  }
  return turns;
}

function isCharacter(role: string, character: string): boolean {
  const r = role.toLowerCase();
  const c = character.toLowerCase();
  return r === c || r.split(/\s+/).includes(c) || c.split(/\s+/).includes(r) || r.includes(c);
}

function words(text: string): number {
  const t = text.trim();
  return t ? t.split(/\s+/).length : 0;
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

/** Parses file text (format detected: a JSON array, else JSON lines) and extracts the character's pairs. */
export function parseCharacterLlm(
  text: string,
  character: string,
): { pairs: CharacterPair[]; stats: CharacterLlmStats } {
  const skipped: { at: number; reason: string }[] = [];
  const scenes: { turns: Turn[]; scene: string; location: string | null }[] = [];
  const trimmed = text.trimStart();
  const format: 'prompted' | 'generated' = trimmed.startsWith('[') ? 'generated' : 'prompted';
  if (format === 'generated') {
    let arr: unknown;
    try {
      arr = JSON.parse(text);
    } catch (err) {
      throw new QuestionsError(`Not a JSON array: ${(err as Error).message}`, { format });
    }
    (arr as unknown[]).forEach((entry, i) => {
      const e = entry as {
        dialogue?: { role?: string; content?: string }[];
        location?: string;
        source?: string;
      };
      if (!Array.isArray(e?.dialogue)) {
        skipped.push({ at: i, reason: 'no dialogue list' });
        return;
      }
      scenes.push({
        turns: e.dialogue
          .filter((d) => typeof d?.role === 'string' && typeof d?.content === 'string')
          .map((d) => ({ role: (d.role as string).trim(), content: (d.content as string).trim() })),
        scene: e.source ?? `scene_${i}`,
        location: e.location ?? null,
      });
    });
  } else {
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      let obj: { prompt?: string; output?: string; source?: string };
      try {
        obj = JSON.parse(line) as typeof obj;
      } catch (err) {
        skipped.push({ at: i + 1, reason: (err as Error).message });
        return;
      }
      if (typeof obj.output !== 'string') {
        skipped.push({ at: i + 1, reason: 'no output field' });
        return;
      }
      const loc = /Location:\s*([^\n]+)/.exec(obj.prompt ?? '');
      scenes.push({
        turns: parsePromptedOutput(obj.output),
        scene: obj.source ?? `line_${i + 1}`,
        location: loc ? (loc[1] as string).trim() : null,
      });
    });
  }

  const kept = scenes.filter((s) => s.turns.some((t) => isCharacter(t.role, character)));
  const pairs = kept.flatMap((s) => pairsOf(s.turns, character, s.scene, s.location));
  const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  return {
    pairs,
    stats: {
      format,
      scenesTotal: scenes.length,
      scenes: kept.length,
      turns: kept.reduce((n, s) => n + s.turns.length, 0),
      characterTurns: kept.reduce(
        (n, s) => n + s.turns.filter((t) => isCharacter(t.role, character)).length,
        0,
      ),
      pairs: pairs.length,
      meanQuestionWords: mean(pairs.map((p) => words(p.question))),
      meanAnswerWords: mean(pairs.map((p) => words(p.answer))),
      skipped,
    },
  };
}

/** Reads a local Character-LLM file and extracts the character's pairs. */
export function importCharacterLlm(
  path: string,
  character: string,
): { pairs: CharacterPair[]; stats: CharacterLlmStats } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new QuestionsError(`Cannot read ${path}: ${(err as Error).message}`, { path });
  }
  return parseCharacterLlm(text, character);
}
