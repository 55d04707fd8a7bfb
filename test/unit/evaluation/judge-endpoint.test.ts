/**
 * The evaluation's LLM-judge step end to end over HTTP: runJudge / runOptionalJudge (what
 * evaluate() calls) against a local OpenAI-compatible server started here. The server is a
 * scripted judge, not a model: it prefers the answer with more occurrences of a marker word and
 * wraps its verdict in prose, so the expected Elo order follows from the answers alone.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EvaluationItemRow, ModelRole } from '../../../src-shared/contract';
import { JudgeError, runJudge, runOptionalJudge } from '../../../src-main/evaluation/evaluate';
import type { EndpointSettings } from '../../../src-main/core/settings';

const API_KEY = 'sk-test-judge-secret-7f3a9c';
const MARKER = 'sonata';

type Mode = 'marker' | 'always-a' | 'garbage' | 'http-500' | 'not-json' | 'garbage-when-base';

interface SeenRequest {
  url: string;
  authorization: string | undefined;
  body: { model?: string; messages?: { role: string; content: string }[]; temperature?: number };
}

let server: Server;
let baseUrl = '';
let mode: Mode = 'marker';
const seen: SeenRequest[] = [];

function section(text: string, name: string): string {
  const m = new RegExp(`\\[${name}\\]\\n([\\s\\S]*?)(?:\\n\\n\\[|\\n\\nWhich answer|$)`).exec(text);
  return m?.[1] ?? '';
}

function count(text: string): number {
  return text.toLowerCase().split(MARKER).length - 1;
}

function reply(res: ServerResponse, status: number, body: string, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

function judgeText(user: string): string {
  const a = section(user, 'Answer A');
  const b = section(user, 'Answer B');
  if (mode === 'always-a') return 'The first answer has a fine ring to it.\nVerdict: A';
  if (mode === 'garbage') return 'What lovely music both of these are. I cannot say more.';
  if (mode === 'garbage-when-base' && (a.includes('BASE') || b.includes('BASE'))) return 'Hmm, difficult.';
  const ca = count(a);
  const cb = count(b);
  const v = ca > cb ? 'A' : cb > ca ? 'B' : 'tie';
  return `Having weighed both answers carefully, one of them sounds more like the composer.\n\n**Verdict: ${v}**\n\nThank you.`;
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  let raw = '';
  req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
  req.on('end', () => {
    const body = JSON.parse(raw) as SeenRequest['body'];
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization, body });
    if (req.url !== '/v1/chat/completions') return reply(res, 404, '{"error":"not found"}');
    // The error bodies echo the key: the client must not store them.
    if (mode === 'http-500')
      return reply(res, 500, JSON.stringify({ error: `boom ${req.headers.authorization}` }));
    if (mode === 'not-json') return reply(res, 200, `<html>${req.headers.authorization}</html>`, 'text/html');
    const user = body.messages?.find((m) => m.role === 'user')?.content ?? '';
    const content = judgeText(user);
    reply(
      res,
      200,
      JSON.stringify({
        id: 'x',
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content } }],
      }),
    );
  });
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen.length = 0;
  mode = 'marker';
});

function endpoint(): EndpointSettings {
  return { baseUrl, model: 'judge-model-x', apiKey: API_KEY };
}

/** Teacher answers carry the marker twice, student once, base never: teacher > student > base. */
function items(n: number): EvaluationItemRow[] {
  return Array.from({ length: n }, (_, i) => ({
    questionId: 100 + i,
    category: 'music',
    question: `Question ${i}: what do you compose?`,
    answers: {
      teacher: `TEACHER ${i}: A sonata, and then another sonata, for I live for the keys.`,
      student: `STUDENT ${i}: I write a sonata now and then.`,
      base: `BASE ${i}: I am a helpful assistant and write code.`,
    } satisfies Record<ModelRole, string>,
    inCharacter: { student: 0, teacher: 0, base: 0 },
    similarityToTeacher: { student: { difflib: 0, cosine: 0 }, base: { difflib: 0, cosine: 0 } },
  }));
}

const CHARACTER = 'Ludwig van Beethoven';
const CONSTITUTION = 'You are Beethoven, a stormy composer.';

describe('LLM judge over an OpenAI-compatible endpoint', () => {
  it('asks about both answers in both orders, with the key and model, and orders Elo by preference', async () => {
    const rows = items(3);
    const out = await runJudge(endpoint(), CHARACTER, CONSTITUTION, rows);

    // 3 questions x 3 pairs x 2 orders, all on the right path with the key and the model.
    expect(seen).toHaveLength(18);
    for (const r of seen) {
      expect(r.url).toBe('/v1/chat/completions');
      expect(r.authorization).toBe(`Bearer ${API_KEY}`);
      expect(r.body.model).toBe('judge-model-x');
      expect(r.body.temperature).toBe(0);
    }
    // Every request carries both answers of its pair, and each pair is asked in both orders.
    const sections = seen.map((r) => {
      const user = r.body.messages?.find((m) => m.role === 'user')?.content ?? '';
      expect(user).toContain(CONSTITUTION);
      return { a: section(user, 'Answer A'), b: section(user, 'Answer B'), q: section(user, 'Question') };
    });
    for (const s of sections) {
      expect(s.a.length).toBeGreaterThan(0);
      expect(s.b.length).toBeGreaterThan(0);
      expect(s.a).not.toBe(s.b);
      expect(sections.some((t) => t.q === s.q && t.a === s.b && t.b === s.a)).toBe(true);
    }

    expect(out.model).toBe('judge-model-x');
    expect(out.comparisons).toHaveLength(9);
    // Verdicts are in the (a, b) order of the comparison after reconciling the swapped order.
    for (const c of out.comparisons) {
      const rank: Record<ModelRole, number> = { teacher: 2, student: 1, base: 0 };
      expect(c.verdict).toBe(rank[c.a] > rank[c.b] ? 'A' : 'B');
    }
    expect(out.elo.teacher).toBeGreaterThan(out.elo.student);
    expect(out.elo.student).toBeGreaterThan(out.elo.base);
    expect(Object.values(out.elo).every(Number.isFinite)).toBe(true);
    expect(JSON.stringify(out)).not.toContain(API_KEY);
  });

  it('turns a position-biased judge (always "A") into ties, so no role is ranked above another', async () => {
    const out = await runJudge(endpoint(), CHARACTER, CONSTITUTION, items(2));
    expect(out.comparisons.length).toBe(6);
    mode = 'always-a';
    const biased = await runJudge(endpoint(), CHARACTER, CONSTITUTION, items(2));
    expect(biased.comparisons.every((c) => c.verdict === 'tie')).toBe(true);
    expect(biased.elo.student).toBeCloseTo(biased.elo.teacher, 6);
    expect(biased.elo.teacher).toBeCloseTo(biased.elo.base, 6);
  });

  it('gives NaN, not the initial rating, to a role no readable verdict involved', async () => {
    mode = 'garbage-when-base';
    const out = await runJudge(endpoint(), CHARACTER, CONSTITUTION, items(2));
    expect(out.comparisons.filter((c) => c.verdict === null)).toHaveLength(4);
    expect(Number.isNaN(out.elo.base)).toBe(true);
    expect(out.elo.teacher).toBeGreaterThan(out.elo.student);
  });

  it('rejects a judge with no readable verdict instead of reporting Elo 1000 for everyone', async () => {
    mode = 'garbage';
    await expect(runJudge(endpoint(), CHARACTER, CONSTITUTION, items(2))).rejects.toBeInstanceOf(JudgeError);

    const notes: string[] = [];
    const judge = await runOptionalJudge(
      { judge: endpoint(), characterName: CHARACTER, systemPrompt: CONSTITUTION },
      items(2),
      notes,
    );
    expect(judge).toBeNull();
    expect(notes).toEqual(['LLM judge failed, no Elo: judge gave no readable verdict in 12 replies']);
  });

  it.each([
    ['http-500' as const, 'LLM judge failed, no Elo: judge endpoint answered HTTP 500'],
    ['not-json' as const, 'LLM judge failed, no Elo: judge endpoint answered with a body that is not JSON'],
  ])('records a skip note for a %s judge, without the key', async (m, note) => {
    mode = m;
    const notes: string[] = [];
    const judge = await runOptionalJudge(
      { judge: endpoint(), characterName: CHARACTER, systemPrompt: CONSTITUTION },
      items(2),
      notes,
    );
    expect(judge).toBeNull();
    expect(notes).toEqual([note]);
    expect(seen).toHaveLength(1);
    expect(JSON.stringify({ judge, notes })).not.toContain(API_KEY);
  });

  it('records a skip note for an unreachable judge and for no judge configured', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const notes: string[] = [];
    const down = { baseUrl: `http://127.0.0.1:${port}/v1`, model: 'm', apiKey: API_KEY };
    expect(
      await runOptionalJudge({ judge: down, characterName: CHARACTER, systemPrompt: '' }, items(1), notes),
    ).toBeNull();
    expect(
      await runOptionalJudge({ judge: null, characterName: CHARACTER, systemPrompt: '' }, items(1), notes),
    ).toBeNull();
    expect(notes[0]).toMatch(/^LLM judge failed, no Elo: /);
    expect(notes[1]).toBe('no judge endpoint configured: pairwise LLM judge and Elo skipped');
    expect(JSON.stringify(notes)).not.toContain(API_KEY);
  });
});
