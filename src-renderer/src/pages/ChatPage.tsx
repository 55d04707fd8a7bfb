import { STUDENT_CONTEXT } from '../../../src-shared/robustness';
import { useEffect, useRef, useState, type JSX } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { EmptyState } from '../components/EmptyState';
import { ErrorNotice } from '../components/ErrorNotice';
import { ChatSamplingPanel } from '../components/ChatSamplingPanel';
import { formatNumber } from '../components/format';
import { selectChatMessages, selectIsSending, useChatStore, type ChatMessage } from '../stores/chat';
import { selectCheckpointsNewestFirst, useCheckpointsStore } from '../stores/checkpoints';

const SPEAKER_LABELS: Record<ChatMessage['speaker'], string> = {
  user: 'You',
  student: 'Student (no prompt)',
  teacher: 'Teacher (with prompt)',
};

/** Puts a student answer and the teacher answer to the same message side by side. */
function groupTurns(messages: ChatMessage[]): ChatMessage[][] {
  const groups: ChatMessage[][] = [];
  for (const m of messages) {
    const last = groups[groups.length - 1];
    if (m.speaker === 'teacher' && last?.length === 1 && last[0]?.speaker === 'student') last.push(m);
    else groups.push([m]);
  }
  return groups;
}

function MessageView({ message }: { message: ChatMessage }): JSX.Element {
  return (
    <div
      className="chat-message"
      data-testid="chat-message"
      data-speaker={message.speaker}
      aria-busy={message.streaming}
    >
      <div className="small">
        <b>{SPEAKER_LABELS[message.speaker]}</b>
      </div>
      <div data-testid="chat-message-text">
        {message.content}
        {message.streaming && <span className="muted"> ▍</span>}
      </div>
      {message.speaker !== 'user' && !message.streaming && message.latencyMs !== undefined && (
        <div className="chat-meta" data-testid="chat-message-meta">
          {formatNumber(message.promptTokens)} prompt + {formatNumber(message.completionTokens)} completion
          tokens · {formatNumber(message.latencyMs)} ms
          {message.ttftMs !== undefined && ` (first token ${formatNumber(message.ttftMs)} ms)`} after Enter
        </div>
      )}
    </div>
  );
}

export function ChatPage(): JSX.Element {
  const checkpoints = useCheckpointsStore(useShallow(selectCheckpointsNewestFirst));
  const loadCheckpoints = useCheckpointsStore((s) => s.load);
  const listLoading = useCheckpointsStore((s) => s.loading);
  const warmup = useChatStore((s) => s.warmup);
  const warm = useChatStore((s) => s.warm);
  const messages = useChatStore(selectChatMessages);
  const sending = useChatStore(selectIsSending);
  const sampling = useChatStore((s) => s.sampling);
  const setSampling = useChatStore((s) => s.setSampling);
  const { checkpointId, chosenByUser, withTeacher, starting, error } = useChatStore(
    useShallow((s) => ({
      checkpointId: s.checkpointId,
      chosenByUser: s.chosenByUser,
      withTeacher: s.withTeacher,
      starting: s.starting,
      error: s.error,
    })),
  );
  const { setCheckpoint, setWithTeacher, start, send } = useChatStore(
    useShallow((s) => ({
      setCheckpoint: s.setCheckpoint,
      setWithTeacher: s.setWithTeacher,
      start: s.start,
      send: s.send,
    })),
  );
  const [text, setText] = useState('');
  const logRef = useRef<HTMLDivElement>(null);

  // Whether this page's checkpoint list has arrived (the warm-up waits for it: it decides the model).
  const [listed, setListed] = useState(false);
  useEffect(() => {
    void loadCheckpoints(null).then(() => setListed(true));
  }, [loadCheckpoints]);
  useEffect(() => {
    // Until the user picks one, chat uses what the registry says chat uses (the current
    // promotion, or `checkpoint use`'s choice), else the newest checkpoint: the same rule as
    // `character chat` and serve-model. Never switch under a reply in flight.
    if (chosenByUser || sending || checkpoints.length === 0) return;
    const preferred = checkpoints.find((c) => c.active) ?? checkpoints[0];
    if (preferred && preferred.id !== checkpointId) setCheckpoint(preferred.id, { byUser: false });
  }, [checkpoints, checkpointId, chosenByUser, sending, setCheckpoint]);
  useEffect(() => {
    // Load the model as soon as the page knows which one it will talk to, so the first message
    // does not wait for it (it took 32 s on the first message before).
    if (!listed || listLoading) return;
    if (!chosenByUser && checkpointId === null && checkpoints.length > 0) return;
    void warm();
  }, [listed, listLoading, chosenByUser, checkpointId, withTeacher, checkpoints.length, warm]);
  useEffect(() => {
    const log = logRef.current;
    if (log) log.scrollTop = log.scrollHeight;
  }, [messages]);

  const submit = (): void => {
    if (!text.trim() || sending) return;
    const sent = text;
    setText('');
    void send(sent).then((accepted) => {
      if (!accepted) setText(sent);
    });
  };

  return (
    <section aria-labelledby="chat-title">
      <h2 id="chat-title">Chat</h2>
      <p className="muted">
        The student answers with NO system prompt: whatever character it shows was distilled into its weights.
        Turn on side by side to compare with the teacher reading the full persona prompt.
      </p>
      <p className="muted small" data-testid="chat-student-context">
        What the student is given: {STUDENT_CONTEXT}, as in its training.
      </p>
      <div className="panel row">
        <label htmlFor="chat-checkpoint">Checkpoint</label>
        <select
          id="chat-checkpoint"
          data-testid="chat-checkpoint"
          value={checkpointId ?? ''}
          onChange={(e) => setCheckpoint(e.target.value || null)}
        >
          <option value="">Base model (no adapter)</option>
          {checkpoints.map((c) => (
            <option key={c.id} value={c.id}>
              {`${c.lineage.personaId} · step ${c.step} · ${c.state}${c.current ? ' (current)' : ''}${c.active ? ' · in use' : ''} · ${c.id}`}
            </option>
          ))}
        </select>
        <input
          id="chat-with-teacher"
          type="checkbox"
          data-testid="chat-with-teacher"
          checked={withTeacher}
          disabled={checkpointId === null}
          onChange={(e) => setWithTeacher(e.target.checked)}
        />
        <label htmlFor="chat-with-teacher">
          Side by side with the teacher (+ prompt){checkpointId === null && ' — pick a checkpoint first'}
        </label>
        <button type="button" data-testid="chat-new" disabled={starting} onClick={() => void start()}>
          New conversation
        </button>
      </div>
      {checkpoints.length === 0 && (
        <p className="muted small">
          No trained checkpoints yet: you can chat with the base model now, or train one on the Training page.
        </p>
      )}
      {warmup && (
        <p
          className={`small ${warmup.status === 'failed' ? 'bad' : 'muted'}`}
          role="status"
          data-testid="chat-warmup"
          data-status={warmup.status}
        >
          {warmup.status === 'warming'
            ? 'Warming up the model… (you can type; the answer starts once it is loaded)'
            : warmup.status === 'ready'
              ? `Model ready (loaded in ${formatNumber(warmup.loadMs ?? 0)} ms).`
              : `Warm-up failed: ${warmup.error?.message ?? 'unknown error'}. The first message will load the model.`}
        </p>
      )}
      {withTeacher && (
        <p className="small muted" data-testid="chat-turns-note">
          Side by side, the student answers first and then the teacher: one engine runs one answer at a time.
          Both are timed from Enter.
        </p>
      )}
      <ChatSamplingPanel sampling={sampling} onChange={setSampling} />
      <ErrorNotice error={error} testId="chat-error" />
      <div
        className="chat-log"
        ref={logRef}
        data-testid="chat-log"
        tabIndex={0}
        aria-live="polite"
        aria-label="Conversation"
      >
        {messages.length === 0 ? (
          <EmptyState title="Say something">
            <p>Try “What did you feel when you could no longer hear the orchestra?”</p>
          </EmptyState>
        ) : (
          groupTurns(messages).map((group) =>
            group.length === 1 ? (
              <MessageView key={group[0]?.id} message={group[0] as ChatMessage} />
            ) : (
              <div key={group[0]?.id} className="chat-pair" data-testid="chat-pair">
                {group.map((m) => (
                  <MessageView key={m.id} message={m} />
                ))}
              </div>
            ),
          )
        )}
      </div>
      <form
        className="chat-input"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <label htmlFor="chat-text" className="small">
          Message
        </label>
        <textarea
          id="chat-text"
          data-testid="chat-input"
          value={text}
          placeholder="Ask the character something (Enter sends, Shift+Enter for a new line)"
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              submit();
            }
          }}
        />
        <button type="submit" className="primary" data-testid="chat-send" disabled={sending || !text.trim()}>
          {sending ? 'Answering…' : 'Send'}
        </button>
      </form>
    </section>
  );
}
