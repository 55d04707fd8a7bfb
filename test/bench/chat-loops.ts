/**
 * Do chat replies loop? Held-out questions of the Beethoven persona (the question generator's
 * held-out set, seeded) answered at chat's length (160 tokens) by the character (the embedded
 * model WITH the constitution, what the distilled student imitates) and by the base without it,
 * (and, given its adapter, by a distilled student without it), once with plain sampling and once with each anti-loop setting; an answer loops when its most
 * repeated word 3-gram covers 30% of it (the audit's repetition_loop rule). Shares come with 95%
 * intervals; a setting is better only where the intervals do not overlap.
 */
import type { ChatSampling, Interval } from '../../src-shared/contract';
import type { BenchRow } from './bench';
import type { ModelSpec } from '../../src-shared/engine-protocol';
import { CHAT_SAMPLING, toEngineSampling } from '../../src-main/chat/service';
import { repetitionShare } from '../../src-main/datasets/audit';
import type { EngineClient } from '../../src-main/engine/client';
import { generateAll } from '../../src-main/engine/generate-all';
import { shareInterval } from '../../src-main/evaluation/intervals';
import { loadBuiltInPersonas } from '../../src-main/personas';
import { generateQuestionSet } from '../../src-main/questions/generate';

/** The audit's threshold for a repetition loop. */
const LOOP_SHARE = 0.3;

export interface LoopMeasure {
  role: 'character' | 'base' | 'student';
  setting: string;
  answers: number;
  loops: number;
  share: number;
  interval: Interval;
}

export interface ChatLoopOptions {
  model: ModelSpec;
  questions: number;
  /** Anti-loop settings to compare with plain sampling, by name. */
  settings: Record<string, Partial<ChatSampling>>;
  seed?: number;
  /** A distilled student's adapter folder: its answers (no system prompt) are measured too. */
  studentAdapter?: string;
}

export async function measureChatLoops(engine: EngineClient, o: ChatLoopOptions): Promise<LoopMeasure[]> {
  const persona = loadBuiltInPersonas().find((p) => p.id === 'beethoven');
  if (!persona?.parsed) throw new Error('the built-in Beethoven persona is missing');
  const held = generateQuestionSet({ persona: 'beethoven', count: 0, heldoutCount: o.questions, seed: 7 })
    .questions.filter((q) => q.heldout)
    .map((q) => q.text);
  const plain: Partial<ChatSampling> = { repetitionPenalty: 1, noRepeatNgram: 0 };
  const out: LoopMeasure[] = [];
  for (const [name, setting] of [['plain', plain] as const, ...Object.entries(o.settings)]) {
    // The same seed for every setting: the settings differ, the draws do not.
    const sampling = toEngineSampling({ ...CHAT_SAMPLING, ...setting, seed: o.seed ?? 11 });
    const roles = o.studentAdapter ? (['character', 'base', 'student'] as const) : (['character', 'base'] as const);
    for (const role of roles) {
      const answers = await generateAll(engine, {
        model: o.model,
        ...(role === 'character' ? { system: persona.parsed.systemPrompt } : {}),
        ...(role === 'student' && o.studentAdapter ? { adapter: o.studentAdapter } : {}),
        prompts: held,
        sampling,
        chunkSize: 16,
      });
      const looped = answers.map((a) => repetitionShare(a.text) >= LOOP_SHARE);
      const loops = looped.filter(Boolean).length;
      out.push({
        role,
        setting: name,
        answers: looped.length,
        loops,
        share: looped.length ? loops / looped.length : NaN,
        interval: shareInterval(looped),
      });
    }
  }
  return out;
}

/** Bench rows: each setting's loop share per role; passed when its interval lies below plain's. */
export function chatLoopRows(measures: readonly LoopMeasure[]): BenchRow[] {
  const plain = new Map(measures.filter((m) => m.setting === 'plain').map((m) => [m.role, m]));
  return measures.map((m) => {
    const base = plain.get(m.role);
    const ci = `[${(m.interval.low * 100).toFixed(1)}, ${(m.interval.high * 100).toFixed(1)}]%`;
    return {
      name: `chat loops: ${m.role}, ${m.setting} (${m.loops}/${m.answers} answers)`,
      value: m.share,
      unit: 'share',
      target: m.setting === 'plain' ? '-' : '< plain',
      passed: m.setting === 'plain' || !base ? null : m.interval.high < base.interval.low,
      note: `95% interval ${ci}`,
    };
  });
}
