/**
 * Teachers that think (issue #10, item 8): reasoning_effort is sent when configured, the
 * reasoning is cut out of the answer (inline <think> blocks or a separate reasoning field), and
 * the audit flags the answers that had it without dropping them.
 */
import { describe, expect, it } from 'vitest';
import { auditRun } from '../../../src-main/datasets';
import {
  createTeacherProvider,
  OpenAICompatibleProvider,
  ProviderError,
  splitThinking,
  type ReasoningEffort,
} from '../../../src-main/providers';
import { openStore } from '../../../src-main/store';
import type { SamplingParams } from '../../../src-shared/engine-protocol';

const sampling: SamplingParams = { temperature: 0.7, top_p: 0.9, max_new_tokens: 64, seed: 1 };
const SPOKEN =
  'Ach, the Ninth! I heard it only inside my head, for my ears had long failed me, yet the chorus sang louder there than any hall in Vienna could ever hold.';

/** A fetch that answers every request with `message` and records the request bodies. */
function fakeEndpoint(message: Record<string, unknown>): {
  fetch: typeof fetch;
  bodies: Record<string, unknown>[];
} {
  const bodies: Record<string, unknown>[] = [];
  const f = (async (_url: string | URL | Request, init?: RequestInit) => {
    bodies.push(JSON.parse(String(init?.body)) as Record<string, unknown>);
    return new Response(
      JSON.stringify({
        choices: [{ message: { role: 'assistant', ...message }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 10, completion_tokens: 20 },
      }),
      { status: 200, headers: { 'content-type': 'application/json' } },
    );
  }) as typeof fetch;
  return { fetch: f, bodies };
}

function provider(fetchImpl: typeof fetch, reasoningEffort?: ReasoningEffort): OpenAICompatibleProvider {
  return new OpenAICompatibleProvider({
    baseUrl: 'http://127.0.0.1:1/v1',
    model: 'qwen3:1.7b',
    fetch: fetchImpl,
    maxAttempts: 1,
    ...(reasoningEffort ? { reasoningEffort } : {}),
  });
}

describe('splitThinking', () => {
  it('cuts a closed block, an unclosed one and an orphan closing tag', () => {
    expect(splitThinking(`<think>\nThe user asks about the Ninth.\n</think>\n\n${SPOKEN}`)).toEqual({
      text: SPOKEN,
      thinking: true,
    });
    expect(splitThinking('<think>Let me see, the user wants')).toEqual({ text: '', thinking: true });
    expect(splitThinking(`Okay, so he asks.</think>${SPOKEN}`)).toEqual({ text: SPOKEN, thinking: true });
    expect(splitThinking(`<THINKING>hm</THINKING> ${SPOKEN}`)).toEqual({ text: SPOKEN, thinking: true });
  });

  it('leaves an answer without reasoning exactly as it is', () => {
    expect(splitThinking(`  ${SPOKEN}  `)).toEqual({ text: `  ${SPOKEN}  `, thinking: false });
  });
});

describe('an OpenAI-compatible teacher that thinks', () => {
  const item = { system: 'You are Beethoven.', messages: [{ role: 'user' as const, content: 'The Ninth?' }] };

  it('sends reasoning_effort only when it is configured', async () => {
    const none = fakeEndpoint({ content: SPOKEN });
    await provider(none.fetch, 'none').generate([item], sampling);
    expect(none.bodies[0]).toMatchObject({ reasoning_effort: 'none', model: 'qwen3:1.7b' });
    const unset = fakeEndpoint({ content: SPOKEN });
    await provider(unset.fetch).generate([item], sampling);
    expect(unset.bodies[0]).not.toHaveProperty('reasoning_effort');
  });

  it('takes reasoningEffort from the endpoint settings', async () => {
    const ep = fakeEndpoint({ content: SPOKEN });
    const teacher = createTeacherProvider({
      endpoint: { baseUrl: 'http://127.0.0.1:1/v1', model: 'qwen3', apiKey: '', reasoningEffort: 'low' },
      engine: { call: () => Promise.reject(new Error('no engine')) },
      localModel: { source: 'default' },
      remote: { fetch: ep.fetch, maxAttempts: 1 },
    });
    await teacher.generate([item], sampling);
    expect(ep.bodies[0]).toMatchObject({ reasoning_effort: 'low' });
  });

  it('refuses an unknown reasoning effort', () => {
    expect(() => provider(fakeEndpoint({ content: '' }).fetch, 'extreme' as ReasoningEffort)).toThrow(
      ProviderError,
    );
  });

  it('strips an inline <think> block and marks the answer', async () => {
    const ep = fakeEndpoint({
      content: `<think>\nHe asks about the Ninth. Be grumpy.\n</think>\n\n${SPOKEN}`,
    });
    const [out] = await provider(ep.fetch).generate([item], sampling);
    expect(out!.text).toBe(SPOKEN);
    expect(out!.thinking).toBe(true);
  });

  it('marks an answer whose reasoning came in a separate field (Ollama, vLLM)', async () => {
    const ollama = fakeEndpoint({ content: SPOKEN, reasoning: 'He asks about the Ninth.' });
    const [a] = await provider(ollama.fetch).generate([item], sampling);
    expect(a).toMatchObject({ text: SPOKEN, thinking: true });
    const vllm = fakeEndpoint({ content: SPOKEN, reasoning_content: 'Hmm.' });
    const [b] = await provider(vllm.fetch).generate([item], sampling);
    expect(b).toMatchObject({ text: SPOKEN, thinking: true });
    const plain = fakeEndpoint({ content: SPOKEN });
    const [c] = await provider(plain.fetch).generate([item], sampling);
    expect(c).toMatchObject({ text: SPOKEN, thinking: false });
  });
});

describe('the audit of answers that had reasoning', () => {
  it('flags them "thinking" and keeps them; an answer that was all reasoning is empty and dropped', () => {
    const store = openStore(':memory:');
    const run = store.runs.create({
      personaId: 'beethoven',
      personaVersion: 1,
      scale: 'smoke',
      dir: '/tmp/x',
    });
    store.questions.insertMany(
      run.id,
      [1, 2, 3].map((id) => ({ id, category: 'music', text: `Q${id}?`, heldout: false, template: null })),
    );
    const base = { promptTokens: 1, completionTokens: 1, provider: 'openai', model: 'qwen3', latencyMs: 1 };
    store.examples.insertMany(run.id, [
      { ...base, questionId: 1, answer: SPOKEN, thinking: true },
      { ...base, questionId: 2, answer: `${SPOKEN} And the quartets, too, came to me in silence.` },
      { ...base, questionId: 3, answer: splitThinking('<think>The user wants').text, thinking: true },
    ]);
    expect(store.examples.listByRun(run.id).map((r) => r.thinking === true)).toEqual([true, false, true]);
    const summary = auditRun(store, run.id, { keywords: ['ninth'] });
    const rows = store.examples.listByRun(run.id);
    expect(rows.map((r) => r.flags)).toEqual([['thinking'], [], ['empty', 'thinking']]);
    expect(summary.kept).toBe(2);
    expect(summary.flagged).toEqual({ thinking: 2, empty: 1 });
    expect(store.examples.countByRun(run.id, { flag: 'thinking' })).toBe(2);
  });
});
