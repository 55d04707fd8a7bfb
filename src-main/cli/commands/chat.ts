/** `character sample "<text>"` and `character chat`: the student with NO system prompt. */
import { createInterface } from 'node:readline/promises';
import { CliUsageError, type CommandFn } from '../context';
import { SAMPLING_FLAGS, samplingOverrides } from '../sampling-flags';
import { parseCommandArgs } from '../args';
import type { ChatReply } from '../../chat/service';

function describeTurn(r: ChatReply): string {
  const s = r.student;
  const saved = r.tokensSaved !== null ? `, ${r.tokensSaved} prompt tokens saved vs the teacher` : '';
  return `(${s.completionTokens ?? '?'} tokens, first token ${s.ttftMs ?? '?'} ms, total ${s.latencyMs ?? '?'} ms${saved})`;
}

export const sampleCommand: CommandFn = async (args, ctx) => {
  const { values, positionals } = parseCommandArgs('sample', args, {
    checkpoint: { type: 'string', short: 'c' },
    teacher: { type: 'boolean' },
    ...SAMPLING_FLAGS,
  });
  const text = positionals.join(' ').trim();
  if (!text)
    throw new CliUsageError(
      'sample: give the text to answer, e.g. character sample "Who are you?"',
      'sample',
    );
  const sampling = samplingOverrides('sample', values);
  const studio = await ctx.open();
  const checkpointId = studio.registry.resolve(values.checkpoint ?? null);
  const chat = studio.chat;
  const session = chat.start(checkpointId, values.teacher === true);
  const reply = await chat.send(session.id, text, ctx.abort.signal, sampling);
  ctx.result({ checkpointId, sessionId: session.id, ...reply });
  ctx.print(
    `student${checkpointId ? ` [${checkpointId}]` : ' [base model, no checkpoint]'}: ${reply.student.content}`,
  );
  ctx.print(describeTurn(reply));
  if (reply.teacher) ctx.print(`teacher [with constitution]: ${reply.teacher.content}`);
  return 0;
};

export const chatCommand: CommandFn = async (args, ctx) => {
  const { values } = parseCommandArgs('chat', args, {
    checkpoint: { type: 'string', short: 'c' },
    teacher: { type: 'boolean' },
    ...SAMPLING_FLAGS,
  });
  const sampling = samplingOverrides('chat', values);
  const studio = await ctx.open();
  const checkpointId = studio.registry.resolve(values.checkpoint ?? null);
  const chat = studio.chat;
  const session = chat.start(checkpointId, values.teacher === true);
  ctx.note(
    `chat with ${checkpointId ?? 'the base model (no checkpoint yet)'}; no system prompt${values.teacher ? ', teacher side by side' : ''}. Empty line or Ctrl-D ends.`,
  );
  const off = studio.events.on('chat:token', (t) => {
    if (t.role === 'student' && !ctx.json) ctx.io.stdout.write(t.text);
  });
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  const prompt = (): void => {
    ctx.io.stderr.write('you> ');
  };
  try {
    prompt();
    // The async iterator keeps lines that arrive while a reply is generating (piped input).
    for await (const line of rl) {
      if (line.trim() === '') break;
      if (!ctx.json) ctx.io.stdout.write('student> ');
      const reply = await chat.send(session.id, line, ctx.abort.signal, sampling);
      if (!ctx.json) ctx.io.stdout.write('\n');
      ctx.note(describeTurn(reply));
      if (reply.teacher) ctx.print(`teacher> ${reply.teacher.content}`);
      ctx.result(reply);
      prompt();
    }
  } finally {
    off();
    rl.close();
  }
  ctx.note(`transcript saved as chat session ${session.id}`);
  return 0;
};
