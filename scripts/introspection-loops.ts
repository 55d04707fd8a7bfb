/**
 * Why introspection loops on SmolLM2-135M: the teacher (the embedded model WITH the Beethoven
 * constitution) answers the self-reflection prompts with the paper's sampling (temperature 0.7,
 * top-p 0.95), with and without chat's repetition penalty (1.15), and the audit's filters count
 * repetition loops and duplicates in each arm (share with a 95% bootstrap interval).
 *
 *   node --import tsx scripts/introspection-loops.ts [samples per prompt, default 2] [max tokens, default 64]
 *
 * Prints one JSON line per arm. A measurement tool, not part of the app.
 */
import { flagAnswer } from '../src-main/datasets';
import { EngineClient } from '../src-main/engine/client';
import { shareInterval } from '../src-main/evaluation/intervals';
import { loadBuiltInPersonas } from '../src-main/personas/library';
import { INTROSPECTION_PROMPTS } from '../src-main/pipeline/recipes/introspection';

const samples = Number(process.argv[2] ?? 2);
const maxTokens = Number(process.argv[3] ?? 64);
const persona = loadBuiltInPersonas().find((p) => p.id === 'beethoven')?.parsed;
if (!persona) throw new Error('the built-in beethoven persona is missing');
const engine = new EngineClient();
const prompts = INTROSPECTION_PROMPTS.flatMap((p) => Array.from({ length: samples }, () => p));
const arms = [
  { name: 'paper sampling', penalty: 1 },
  { name: 'paper sampling + repetition penalty 1.15', penalty: 1.15 },
];
try {
  for (const arm of arms) {
    const started = performance.now();
    const result = await engine.call('generate', {
      model: { source: 'default' },
      items: prompts.map((p) => ({
        system: persona.systemPrompt,
        messages: [{ role: 'user' as const, content: p }],
      })),
      sampling: {
        temperature: 0.7,
        top_p: 0.95,
        max_new_tokens: maxTokens,
        seed: 11,
        ...(arm.penalty !== 1 ? { repetition_penalty: arm.penalty } : {}),
      },
      batch_size: prompts.length,
    });
    const texts = result.outputs.map((o) => o.text.trim());
    const seen = new Set<string>();
    const loops = texts.map((t) => flagAnswer(t, { minWords: 5, maxWords: 400 }).includes('repetition_loop'));
    const dups = texts.map((t) => {
      const k = t.toLowerCase();
      const d = seen.has(k);
      seen.add(k);
      return d;
    });
    const share = (f: boolean[]): number => f.filter(Boolean).length / f.length;
    console.log(
      JSON.stringify({
        arm: arm.name,
        n: texts.length,
        loops: share(loops),
        loopsInterval: shareInterval(loops),
        duplicates: share(dups),
        duplicatesInterval: shareInterval(dups),
        endedOnTheirOwn: share(result.outputs.map((o) => o.finish_reason === 'stop')),
        seconds: Math.round((performance.now() - started) / 1000),
        example: texts[0],
      }),
    );
  }
} finally {
  await engine.close();
}
