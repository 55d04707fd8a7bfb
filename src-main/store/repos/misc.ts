import type Database from 'better-sqlite3';
import type { ChatSession, ChatTurn } from '../../../src-shared/contract';
import { NotFoundError } from '../../core/errors';
import { newId, nowIso } from '../util';

export type ChatLane = 'student' | 'teacher';

interface SessionDbRow {
  id: string;
  checkpoint_id: string | null;
  with_teacher: number;
  persona_id: string | null;
  created_at: string;
}

interface TurnDbRow {
  lane: ChatLane;
  role: 'user' | 'assistant';
  content: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  latency_ms: number | null;
  ttft_ms: number | null;
}

function toTurn(r: TurnDbRow): ChatTurn {
  const t: ChatTurn = { role: r.role, content: r.content };
  if (r.prompt_tokens !== null) t.promptTokens = r.prompt_tokens;
  if (r.completion_tokens !== null) t.completionTokens = r.completion_tokens;
  if (r.latency_ms !== null) t.latencyMs = r.latency_ms;
  if (r.ttft_ms !== null) t.ttftMs = r.ttft_ms;
  return t;
}

export interface ChatsRepo {
  create(input: {
    id?: string;
    checkpointId: string | null;
    withTeacher: boolean;
    personaId?: string | null;
  }): ChatSession;
  /** The session with its student-lane turns (the conversation the user sees first). */
  get(id: string): (ChatSession & { personaId: string | null }) | null;
  addTurn(sessionId: string, lane: ChatLane, turn: ChatTurn): void;
  turns(sessionId: string, lane: ChatLane): ChatTurn[];
}

export function chatsRepo(db: Database.Database): ChatsRepo {
  const insertSession = db.prepare(
    'INSERT INTO chat_sessions (id, checkpoint_id, with_teacher, persona_id, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const getSession = db.prepare<[string], SessionDbRow>('SELECT * FROM chat_sessions WHERE id = ?');
  const insertTurn = db.prepare(
    `INSERT INTO chat_turns (session_id, lane, role, content, prompt_tokens, completion_tokens, latency_ms, ttft_ms, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const turnsStmt = db.prepare<[string, string], TurnDbRow>(
    'SELECT * FROM chat_turns WHERE session_id = ? AND lane = ? ORDER BY id',
  );
  const get = (id: string): (ChatSession & { personaId: string | null }) | null => {
    const s = getSession.get(id);
    if (!s) return null;
    return {
      id: s.id,
      checkpointId: s.checkpoint_id,
      withTeacher: s.with_teacher === 1,
      personaId: s.persona_id,
      turns: turnsStmt.all(id, 'student').map(toTurn),
    };
  };
  return {
    create: (input) => {
      const id = input.id ?? newId('chat');
      insertSession.run(id, input.checkpointId, input.withTeacher ? 1 : 0, input.personaId ?? null, nowIso());
      return { id, checkpointId: input.checkpointId, withTeacher: input.withTeacher, turns: [] };
    },
    get,
    addTurn: (sessionId, lane, t) => {
      if (!getSession.get(sessionId)) throw new NotFoundError('chat session', sessionId);
      insertTurn.run(
        sessionId,
        lane,
        t.role,
        t.content,
        t.promptTokens ?? null,
        t.completionTokens ?? null,
        t.latencyMs ?? null,
        t.ttftMs ?? null,
        nowIso(),
      );
    },
    turns: (sessionId, lane) => turnsStmt.all(sessionId, lane).map(toTurn),
  };
}

export interface GoodPair {
  id: number;
  prompt: string;
  answer: string;
  score: number;
  approved: boolean;
  source: string;
  createdAt: string;
}

export interface GoodPairsRepo {
  /** Adds pairs in one transaction; an identical prompt+answer already stored is skipped. Returns rows added. */
  add(
    rows: readonly { prompt: string; answer: string; score: number; approved?: boolean; source?: string }[],
  ): number;
  list(filter?: { approved?: boolean; minScore?: number }): GoodPair[];
  setApproved(id: number, approved: boolean): void;
  count(): number;
}

export function goodPairsRepo(db: Database.Database): GoodPairsRepo {
  const insertStmt = db.prepare(
    'INSERT OR IGNORE INTO good_pairs (prompt, answer, score, approved, source, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const listStmt = db.prepare<
    { approved: number | null; minScore: number | null },
    {
      id: number;
      prompt: string;
      answer: string;
      score: number;
      approved: number;
      source: string;
      created_at: string;
    }
  >(
    `SELECT * FROM good_pairs WHERE (@approved IS NULL OR approved = @approved)
       AND (@minScore IS NULL OR score >= @minScore) ORDER BY id`,
  );
  const approveStmt = db.prepare('UPDATE good_pairs SET approved = ? WHERE id = ?');
  const countStmt = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM good_pairs');
  const add = db.transaction(
    (
      rows: readonly { prompt: string; answer: string; score: number; approved?: boolean; source?: string }[],
    ) => {
      const now = nowIso();
      let added = 0;
      for (const r of rows) {
        added += insertStmt.run(r.prompt, r.answer, r.score, r.approved ? 1 : 0, r.source ?? '', now).changes;
      }
      return added;
    },
  );
  return {
    add: (rows) => add(rows),
    list: (filter = {}) =>
      listStmt
        .all({
          approved: filter.approved === undefined ? null : filter.approved ? 1 : 0,
          minScore: filter.minScore ?? null,
        })
        .map((r) => ({
          id: r.id,
          prompt: r.prompt,
          answer: r.answer,
          score: r.score,
          approved: r.approved === 1,
          source: r.source,
          createdAt: r.created_at,
        })),
    setApproved: (id, approved) => {
      approveStmt.run(approved ? 1 : 0, id);
    },
    count: () => countStmt.get()?.n ?? 0,
  };
}

export interface KvRepo {
  get(key: string): string | null;
  set(key: string, value: string | null): void;
}

export function kvRepo(db: Database.Database): KvRepo {
  const getStmt = db.prepare<[string], { value: string }>('SELECT value FROM kv WHERE key = ?');
  const setStmt = db.prepare('INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)');
  const delStmt = db.prepare('DELETE FROM kv WHERE key = ?');
  return {
    get: (key) => getStmt.get(key)?.value ?? null,
    set: (key, value) => {
      if (value === null) delStmt.run(key);
      else setStmt.run(key, value);
    },
  };
}
