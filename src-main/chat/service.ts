/**
 * Chat with a checkpoint: the student answers WITHOUT any system prompt (the character lives
 * in the adapter); optionally the teacher (base model WITH the constitution) answers the same
 * message side by side. Tokens stream as 'chat:token' events; each finished turn carries its
 * prompt tokens, latency and time to first token, and the transcript is saved in the store.
 */
import {
  DEFAULT_CHAT_SAMPLING,
  type ChatSampling,
  type ChatSession,
  type ChatTurn,
} from '../../src-shared/contract';
import type {
  ChatMessage,
  GenerateOutput,
  ModelSpec,
  SamplingParams,
} from '../../src-shared/engine-protocol';
import type { EngineClient } from '../engine/client';
import type { StudioEvents } from '../core/events';
import { InputError, InvalidParamsError, NotFoundError, PipelineError, errorText } from '../core/errors';
import { parseModelSpec } from '../core/model-spec';
import type { SettingsStore } from '../core/settings';
import type { PersonaLibrary } from '../personas';
import type { CheckpointRecord, Store } from '../store';

export interface ChatDeps {
  store: Store;
  engine: EngineClient;
  events: StudioEvents;
  /**
   * Read at every message: the model chats use when a session has no checkpoint is the
   * student model in settings NOW, so a settings change reaches the next message.
   */
  settings: Pick<SettingsStore, 'get'>;
  /** Persona versions, for the teacher lane's constitution. */
  personas: Pick<PersonaLibrary, 'get'>;
}

/** Chat's defaults (the contract's, so the app shows the same). */
export const CHAT_SAMPLING: Readonly<ChatSampling> = DEFAULT_CHAT_SAMPLING;

/** A chat sampling choice, checked: each bad value names its field. */
export function chatSampling(overrides: Partial<ChatSampling> = {}): ChatSampling {
  // Greedy means greedy: at temperature 0 the default repetition penalty (1.15) would still change
  // which token wins, so `sample --temperature 0` gave other text than plain greedy decoding.
  // A penalty asked for explicitly still applies.
  const greedy = overrides.temperature === 0 && overrides.repetitionPenalty === undefined;
  const s = { ...CHAT_SAMPLING, ...(greedy ? { repetitionPenalty: 1 } : {}), ...overrides };
  const bad = (field: keyof ChatSampling, rule: string): never => {
    throw new InvalidParamsError(`sampling.${field} ${rule} (got ${String(s[field])})`, `sampling.${field}`);
  };
  if (!(s.temperature >= 0 && s.temperature <= 5)) bad('temperature', 'must be from 0 (greedy) to 5');
  if (!(s.topP > 0 && s.topP <= 1)) bad('topP', 'must be in (0, 1]');
  if (!(Number.isInteger(s.maxTokens) && s.maxTokens >= 1 && s.maxTokens <= 4096))
    bad('maxTokens', 'must be a whole number from 1 to 4096');
  if (s.seed !== null && !(Number.isInteger(s.seed) && s.seed >= 0))
    bad('seed', 'must be a whole number >= 0');
  if (!(s.repetitionPenalty >= 1 && s.repetitionPenalty <= 3))
    bad('repetitionPenalty', 'must be from 1 (off) to 3');
  if (!(Number.isInteger(s.noRepeatNgram) && s.noRepeatNgram >= 0 && s.noRepeatNgram <= 20))
    bad('noRepeatNgram', 'must be a whole number from 0 (off) to 20');
  return s;
}

/** The engine's SamplingParams for one reply. */
export function toEngineSampling(s: ChatSampling): SamplingParams {
  return {
    temperature: s.temperature,
    top_p: s.topP,
    max_new_tokens: s.maxTokens,
    seed: s.seed ?? Math.floor(Math.random() * 1_000_000),
    ...(s.repetitionPenalty !== 1 ? { repetition_penalty: s.repetitionPenalty } : {}),
    ...(s.noRepeatNgram !== 0 ? { no_repeat_ngram_size: s.noRepeatNgram } : {}),
  };
}
/** How many earlier messages a turn sees (the tiny models have short contexts). */
const HISTORY_MESSAGES = 8;

export interface ChatReply {
  student: ChatTurn;
  teacher: ChatTurn | null;
  /** Prompt tokens the teacher needs for this message minus the student's (the system prompt). */
  tokensSaved: number | null;
}

/** What a warm-up loaded, and how long it took (ms). */
export interface ChatWarmup {
  checkpointId: string | null;
  withTeacher: boolean;
  loadMs: number;
}

export class ChatService {
  constructor(private readonly deps: ChatDeps) {}

  /**
   * Loads the chat's model (with the checkpoint's adapter, and without it for the teacher lane)
   * and runs one greedy token through it, so the first message does not pay for loading: the
   * Chat page calls this when it opens. The engine keeps loaded models between requests.
   */
  async warm(checkpointId: string | null, withTeacher: boolean, signal?: AbortSignal): Promise<ChatWarmup> {
    const cp = this.checkpoint(checkpointId);
    const model = this.modelFor(cp);
    const started = performance.now();
    const lanes: { adapter?: string }[] = [cp ? { adapter: cp.path } : {}];
    if (withTeacher && cp) lanes.push({});
    for (const lane of lanes) {
      await this.deps.engine.call('load_model', { model, ...lane }, { signal });
      // One token through the model warms what loading does not (first-call kernel set-up).
      await this.deps.engine.call(
        'generate',
        {
          model,
          ...lane,
          items: [{ messages: [{ role: 'user', content: 'Hello' }] }],
          sampling: { temperature: 0, top_p: 1, max_new_tokens: 1, seed: 0 },
        },
        { signal },
      );
    }
    return { checkpointId, withTeacher, loadMs: Math.round(performance.now() - started) };
  }

  private checkpoint(id: string | null): CheckpointRecord | null {
    if (id === null) return null;
    const cp = this.deps.store.checkpoints.get(id);
    if (!cp) throw new NotFoundError('checkpoint', id);
    return cp;
  }

  /** The base model a checkpoint was trained from (lineage), else the default. */
  modelFor(cp: CheckpointRecord | null): ModelSpec {
    const base = cp?.lineage?.config?.baseModel;
    return base ? parseModelSpec(base) : this.deps.settings.get('studentModel');
  }

  start(checkpointId: string | null, withTeacher: boolean): ChatSession {
    const cp = this.checkpoint(checkpointId);
    if (withTeacher && !cp) {
      throw new InvalidParamsError(
        'a side-by-side chat needs a checkpoint: its lineage names the persona the teacher plays',
        'withTeacher',
      );
    }
    return this.deps.store.chats.create({
      checkpointId,
      withTeacher,
      personaId: cp?.lineage.personaId ?? null,
    });
  }

  async send(
    sessionId: string,
    text: string,
    signal?: AbortSignal,
    sampling: Partial<ChatSampling> = {},
  ): Promise<ChatReply> {
    const params = toEngineSampling(chatSampling(sampling));
    // Both lanes are timed from the moment the message was sent (Enter), not from their own
    // start: one engine answers one request at a time, so the teacher waits for the student.
    const sentAt = performance.now();
    const session = this.deps.store.chats.get(sessionId);
    if (!session) throw new NotFoundError('chat session', sessionId);
    if (text.trim() === '') throw new InputError('the message is empty');
    const cp = this.checkpoint(session.checkpointId);
    const model = this.modelFor(cp);
    const user: ChatTurn = { role: 'user', content: text };

    const history = (lane: 'student' | 'teacher'): ChatMessage[] =>
      this.deps.store.chats
        .turns(sessionId, lane)
        .slice(-HISTORY_MESSAGES)
        .map((t) => ({ role: t.role, content: t.content }));

    const studentMessages = [...history('student'), { role: 'user' as const, content: text }];
    const student = await this.generate({
      sessionId,
      role: 'student',
      model,
      adapter: cp?.path,
      messages: studentMessages,
      sampling: params,
      signal,
      sentAt,
    });
    this.deps.store.chats.addTurn(sessionId, 'student', user);
    this.deps.store.chats.addTurn(sessionId, 'student', student);

    let teacher: ChatTurn | null = null;
    let system: string | undefined;
    if (cp) system = this.systemPrompt(cp.lineage.personaId, cp.lineage.personaVersion);
    if (session.withTeacher && system !== undefined) {
      const teacherMessages = [...history('teacher'), { role: 'user' as const, content: text }];
      teacher = await this.generate({
        sessionId,
        role: 'teacher',
        model,
        system,
        messages: teacherMessages,
        sampling: params,
        signal,
        sentAt,
      });
      this.deps.store.chats.addTurn(sessionId, 'teacher', user);
      this.deps.store.chats.addTurn(sessionId, 'teacher', teacher);
    }
    let tokensSaved: number | null = null;
    if (system !== undefined) {
      const teacherPrompt =
        teacher?.promptTokens ??
        (
          await this.deps.engine.call(
            'count_tokens',
            { model, chats: [{ system, messages: studentMessages }] },
            { signal },
          )
        ).counts[0];
      if (teacherPrompt !== undefined && student.promptTokens !== undefined)
        tokensSaved = teacherPrompt - student.promptTokens;
    }
    return { student, teacher, tokensSaved };
  }

  private systemPrompt(personaId: string, version: number): string {
    try {
      return this.deps.personas.get(personaId, version).systemPrompt;
    } catch (error) {
      throw new PipelineError(
        `cannot load persona ${personaId} v${version} for the teacher: ${errorText(error)}`,
        { personaId, version },
      );
    }
  }

  private async generate(turn: {
    sessionId: string;
    role: 'student' | 'teacher';
    model: ModelSpec;
    adapter?: string;
    system?: string;
    messages: ChatMessage[];
    sampling: SamplingParams;
    signal?: AbortSignal;
    /** performance.now() when the message was sent: latency and first token count from it. */
    sentAt: number;
  }): Promise<ChatTurn> {
    const { sessionId, role, model, adapter, system, messages, sampling, signal, sentAt } = turn;
    const started = sentAt;
    // When this lane's request went to the engine (the teacher's after the student's reply).
    const queuedMs = performance.now() - sentAt;
    let firstTokenMs: number | null = null;
    const result = await this.deps.engine.call(
      'generate',
      {
        model,
        ...(adapter ? { adapter } : {}),
        items: [{ ...(system !== undefined ? { system } : {}), messages }],
        sampling,
        stream: true,
      },
      {
        signal,
        onEvent: (e) => {
          if (e.event === 'token') {
            if (firstTokenMs === null) firstTokenMs = performance.now() - started;
            this.deps.events.emit('chat:token', { sessionId, role, text: e.text });
          }
        },
      },
    );
    const out: GenerateOutput | undefined = result.outputs[0];
    if (!out) throw new PipelineError('the engine returned no output for the chat message');
    return {
      role: 'assistant',
      content: out.text.trim(),
      promptTokens: out.prompt_tokens,
      completionTokens: out.completion_tokens,
      latencyMs: Math.round(performance.now() - started),
      ttftMs: Math.round(firstTokenMs ?? queuedMs + out.ttft_ms),
    };
  }
}
