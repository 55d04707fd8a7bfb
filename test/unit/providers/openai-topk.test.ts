/**
 * An OpenAI-compatible teacher with top_logprobs for kd: what it asks the endpoint (logprobs,
 * top_logprobs capped at its setting, vLLM's token ids), what it hands the writer (each captured
 * answer's logprobs), and what it refuses (capture without topLogprobs, answers that thought).
 */
import { describe, expect, it } from 'vitest';
import { OpenAICompatibleProvider, type EndpointTopk } from '../../../src-main/providers/openai';

const SAMPLING = { temperature: 0.6, top_p: 0.9, max_new_tokens: 8, seed: 1 };

function fakeFetch(content: (body: Record<string, unknown>) => string): {
  fetch: typeof fetch;
  bodies: Record<string, unknown>[];
} {
  const bodies: Record<string, unknown>[] = [];
  const f = (async (_url: string, init: { body: string }) => {
    const body = JSON.parse(init.body) as Record<string, unknown>;
    bodies.push(body);
    const text = content(body);
    const logprobs = body.logprobs
      ? {
          content: text.split(' ').map((w, i) => ({
            token: `token_id:${i + 10}`,
            logprob: -0.5,
            top_logprobs: [{ token: `token_id:${i + 10}`, logprob: -0.5 }],
          })),
        }
      : null;
    return new Response(
      JSON.stringify({
        choices: [{ message: { content: text }, finish_reason: 'stop', logprobs }],
        usage: { prompt_tokens: 7, completion_tokens: text.split(' ').length + 1 },
      }),
      { status: 200, headers: { 'content-type': 'application/json' } },
    );
  }) as unknown as typeof fetch;
  return { fetch: f, bodies };
}

describe('OpenAICompatibleProvider with top_logprobs', () => {
  it('asks for logprobs and hands each captured answer to the writer', async () => {
    const { fetch, bodies } = fakeFetch((b) =>
      ((b.messages as { content: string }[])[1]?.content ?? '') === 'q1' ? '<think>hm</think>yes' : 'a b c',
    );
    const written: EndpointTopk[][] = [];
    const provider = new OpenAICompatibleProvider({
      baseUrl: 'http://x/v1',
      model: 'm',
      fetch,
      concurrency: 2,
      topLogprobs: 5,
      writeTopk: async (files, k) => {
        expect(k).toBe(5);
        written.push(files);
        return files.map((f) => f.tokens.length);
      },
    });
    expect(provider.capturesDistributions).toBe(true);
    const items = ['q0', 'q1', 'q2'].map((q, i) => ({
      system: 'S',
      messages: [{ role: 'user' as const, content: q }],
      ...(i < 2 ? { topkPath: `/t/${i}` } : {}),
    }));
    const out = await provider.generate(items, SAMPLING, { captureTopK: 64 });
    const asked = bodies.filter((b) => b.logprobs === true);
    expect(asked).toHaveLength(2); // q2 has no file to write: no logprobs asked
    expect(asked.every((b) => b.top_logprobs === 5 && b.return_tokens_as_token_ids === true)).toBe(true);
    expect(bodies.every((b) => b.seed === 1)).toBe(true);
    // q1 thought: its text lost the reasoning, so its tokens no longer match: not captured.
    expect(written).toHaveLength(1);
    expect(written[0]!.map((f) => f.path)).toEqual(['/t/0']);
    expect(written[0]![0]!.promptTokens).toBe(7);
    // The text goes with the logprobs: it names tokens they name lossily (partial UTF-8).
    expect(written[0]![0]!.text).toBe('a b c');
    expect(out[0]!.topkTokens).toBe(3);
    expect(out[1]!.topkTokens).toBeUndefined();
    expect(out[1]!.thinking).toBe(true);
  });

  it('sends no seed when greedy (a server may then batch the requests)', async () => {
    const { fetch, bodies } = fakeFetch(() => 'a');
    const p = new OpenAICompatibleProvider({ baseUrl: 'http://x/v1', model: 'm', fetch });
    await p.generate([{ messages: [{ role: 'user', content: 'q' }] }], { ...SAMPLING, temperature: 0 });
    expect(bodies[0]).not.toHaveProperty('seed');
  });

  it('refuses capture without topLogprobs, and a topLogprobs beyond 20', async () => {
    const { fetch } = fakeFetch(() => 'a');
    const plain = new OpenAICompatibleProvider({ baseUrl: 'http://x/v1', model: 'm', fetch });
    expect(plain.capturesDistributions).toBe(false);
    await expect(
      plain.generate([{ messages: [{ role: 'user', content: 'q' }], topkPath: '/t' }], SAMPLING, {
        captureTopK: 8,
      }),
    ).rejects.toThrow(/set topLogprobs/);
    expect(
      () => new OpenAICompatibleProvider({ baseUrl: 'http://x/v1', model: 'm', fetch, topLogprobs: 64 }),
    ).toThrow(/topLogprobs must be from 0 to 20/);
  });

  it("asks again without vLLM's token ids when a server refuses the field (OpenAI: 400)", async () => {
    const { fetch: ok, bodies } = fakeFetch(() => 'a b');
    const strict = (async (url: string, init: { body: string }) => {
      if ('return_tokens_as_token_ids' in (JSON.parse(init.body) as Record<string, unknown>)) {
        bodies.push(JSON.parse(init.body) as Record<string, unknown>);
        return new Response(
          JSON.stringify({
            error: {
              message: 'Unrecognized request argument supplied: return_tokens_as_token_ids',
              type: 'invalid_request_error',
            },
          }),
          { status: 400, headers: { 'content-type': 'application/json' } },
        );
      }
      return ok(url, init as RequestInit);
    }) as unknown as typeof fetch;
    const provider = new OpenAICompatibleProvider({
      baseUrl: 'http://x/v1',
      model: 'm',
      fetch: strict,
      concurrency: 1,
      topLogprobs: 2,
      writeTopk: async (files) => files.map((f) => f.tokens.length),
    });
    const items = ['q0', 'q1'].map((q, i) => ({
      messages: [{ role: 'user' as const, content: q }],
      topkPath: `/t/${i}`,
    }));
    const out = await provider.generate(items, SAMPLING, { captureTopK: 2 });
    expect(out.map((o) => o.topkTokens)).toEqual([2, 2]);
    // One refused request, its retry without the field, then the field is never sent again.
    expect(bodies.map((b) => 'return_tokens_as_token_ids' in b)).toEqual([true, false, false]);
  });

  it("never sends vLLM's token-id field to OpenAI's own API", async () => {
    const { fetch, bodies } = fakeFetch(() => 'a');
    const provider = new OpenAICompatibleProvider({
      baseUrl: 'https://api.openai.com/v1',
      model: 'gpt-x',
      fetch,
      topLogprobs: 2,
      writeTopk: async (files) => files.map((f) => f.tokens.length),
    });
    await provider.generate([{ messages: [{ role: 'user', content: 'q' }], topkPath: '/t' }], SAMPLING, {
      captureTopK: 2,
    });
    expect(bodies[0]).toMatchObject({ logprobs: true, top_logprobs: 2 });
    expect(bodies[0]).not.toHaveProperty('return_tokens_as_token_ids');
  });
});
