import { create, type StateCreator } from 'zustand';
import type {
  ApiErrorPayload,
  ChatSampling,
  ChatSession,
  ChatTurn,
  EventContract,
} from '../../../src-shared/contract';
import { api } from '../api';
import { toErrorPayload } from './errors';

export type ChatSpeaker = 'user' | 'student' | 'teacher';

export interface ChatMessage {
  id: number;
  speaker: ChatSpeaker;
  content: string;
  /** True while tokens are still streaming in. */
  streaming: boolean;
  promptTokens?: number;
  completionTokens?: number;
  latencyMs?: number;
  ttftMs?: number;
}

interface SessionSlice {
  checkpointId: string | null;
  /**
   * True once the user picked a checkpoint in the list; until then chat follows the registry's
   * active checkpoint (a promotion elsewhere moves it), like `character chat` and serve-model.
   */
  chosenByUser: boolean;
  withTeacher: boolean;
  session: ChatSession | null;
  starting: boolean;
  error: ApiErrorPayload | null;
  setCheckpoint: (checkpointId: string | null, opts?: { byUser?: boolean }) => void;
  setWithTeacher: (withTeacher: boolean) => void;
  /** chat:start with the chosen checkpoint; the student gets NO system prompt. */
  start: () => Promise<void>;
  /** The model warm-up for the chosen checkpoint and lanes (null before the first). */
  warmup: ChatWarmupState | null;
  /** chat:warm for the chosen checkpoint and lanes, unless that warm-up is done or under way. */
  warm: () => Promise<void>;
}

export interface ChatWarmupState {
  /** checkpoint id (or "base") and whether the teacher lane is included. */
  key: string;
  status: 'warming' | 'ready' | 'failed';
  loadMs?: number;
  error?: ApiErrorPayload;
}

const warmKey = (checkpointId: string | null, withTeacher: boolean): string =>
  `${checkpointId ?? 'base'}${withTeacher ? '+teacher' : ''}`;

interface MessagesSlice {
  messages: ChatMessage[];
  sending: boolean;
  /** Sampling settings changed from chat's defaults (sent with every message). */
  sampling: Partial<ChatSampling>;
  setSampling: (change: Partial<ChatSampling>) => void;
  /** Resolves false when the message could not be sent at all (no session), so the text can stay. */
  send: (text: string) => Promise<boolean>;
  receiveToken: (event: EventContract['chat:token']) => void;
}

export type ChatState = SessionSlice & MessagesSlice;

let nextMessageId = 1;

function finishTurn(message: ChatMessage, turn: ChatTurn): ChatMessage {
  return {
    ...message,
    // The finished turn is the truth; streamed text is only a preview of it.
    content: turn.content,
    streaming: false,
    ...(turn.promptTokens !== undefined ? { promptTokens: turn.promptTokens } : {}),
    ...(turn.completionTokens !== undefined ? { completionTokens: turn.completionTokens } : {}),
    ...(turn.latencyMs !== undefined ? { latencyMs: turn.latencyMs } : {}),
    ...(turn.ttftMs !== undefined ? { ttftMs: turn.ttftMs } : {}),
  };
}

const createSessionSlice: StateCreator<ChatState, [], [], SessionSlice> = (set, get) => ({
  checkpointId: null,
  chosenByUser: false,
  withTeacher: false,
  session: null,
  starting: false,
  error: null,
  setCheckpoint(checkpointId, opts = {}) {
    if (opts.byUser !== false) set({ chosenByUser: true });
    // The teacher side needs a checkpoint (its lineage names the persona the teacher plays).
    if (checkpointId !== get().checkpointId)
      set((s) => ({
        checkpointId,
        session: null,
        messages: [],
        withTeacher: checkpointId ? s.withTeacher : false,
      }));
  },
  setWithTeacher(withTeacher) {
    if (withTeacher !== get().withTeacher) set({ withTeacher, session: null, messages: [] });
  },
  async start() {
    const { checkpointId, withTeacher } = get();
    set({ starting: true, error: null });
    try {
      const session = await api.invoke('chat:start', { checkpointId, withTeacher });
      set({ session, starting: false, messages: [] });
    } catch (error) {
      set({ starting: false, error: toErrorPayload(error) });
    }
  },
  warmup: null,
  async warm() {
    const { checkpointId, withTeacher, warmup } = get();
    const key = warmKey(checkpointId, withTeacher);
    if (warmup?.key === key && warmup.status !== 'failed') return;
    set({ warmup: { key, status: 'warming' } });
    try {
      const result = await api.invoke('chat:warm', { checkpointId, withTeacher });
      if (get().warmup?.key === key) set({ warmup: { key, status: 'ready', loadMs: result.loadMs } });
    } catch (error) {
      if (get().warmup?.key === key) set({ warmup: { key, status: 'failed', error: toErrorPayload(error) } });
    }
  },
});

const createMessagesSlice: StateCreator<ChatState, [], [], MessagesSlice> = (set, get) => ({
  messages: [],
  sending: false,
  sampling: {},
  setSampling(change) {
    set((s) => ({ sampling: { ...s.sampling, ...change } }));
  },
  async send(text) {
    const trimmed = text.trim();
    if (!trimmed || get().sending) return false;
    if (!get().session) await get().start();
    const session = get().session;
    if (!session) return false;
    const user: ChatMessage = { id: nextMessageId++, speaker: 'user', content: trimmed, streaming: false };
    const student: ChatMessage = { id: nextMessageId++, speaker: 'student', content: '', streaming: true };
    const pending = [user, student];
    if (session.withTeacher)
      pending.push({ id: nextMessageId++, speaker: 'teacher', content: '', streaming: true });
    set((s) => ({ messages: [...s.messages, ...pending], sending: true, error: null }));
    try {
      const sampling = get().sampling;
      const result = await api.invoke('chat:send', {
        sessionId: session.id,
        text: trimmed,
        ...(Object.keys(sampling).length > 0 ? { sampling } : {}),
      });
      set((s) => ({
        sending: false,
        messages: s.messages.map((m) => {
          if (m.id === student.id) return finishTurn(m, result.student);
          if (m.speaker === 'teacher' && m.streaming && result.teacher) return finishTurn(m, result.teacher);
          return m.streaming ? { ...m, streaming: false } : m;
        }),
      }));
      return true;
    } catch (error) {
      set((s) => ({
        sending: false,
        error: toErrorPayload(error),
        messages: s.messages.map((m) => (m.streaming ? { ...m, streaming: false } : m)),
      }));
      return true;
    }
  },
  receiveToken(event) {
    const session = get().session;
    if (!session || event.sessionId !== session.id) return;
    set((s) => {
      // Tokens go to the newest streaming message of that speaker.
      for (let i = s.messages.length - 1; i >= 0; i -= 1) {
        const m = s.messages[i] as ChatMessage;
        if (m.speaker === event.role && m.streaming) {
          const messages = s.messages.slice();
          messages[i] = { ...m, content: m.content + event.text };
          return { messages };
        }
      }
      return {};
    });
  },
});

export const useChatStore = create<ChatState>()((...args) => ({
  ...createSessionSlice(...args),
  ...createMessagesSlice(...args),
}));

export function resetChatStore(): void {
  useChatStore.setState({
    checkpointId: null,
    chosenByUser: false,
    withTeacher: false,
    session: null,
    starting: false,
    error: null,
    warmup: null,
    messages: [],
    sending: false,
    sampling: {},
  });
}

export const selectChatMessages = (s: ChatState): ChatMessage[] => s.messages;
/** One speaker's messages; a derived array: use with useShallow. */
export const selectMessagesBy =
  (speaker: ChatSpeaker) =>
  (s: ChatState): ChatMessage[] =>
    s.messages.filter((m) => m.speaker === speaker);
export const selectChatSession = (s: ChatState): ChatSession | null => s.session;
export const selectIsSending = (s: ChatState): boolean => s.sending;
