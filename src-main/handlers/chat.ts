import type { ChatSampling } from '../../src-shared/contract';
import { InvalidParamsError } from '../core/errors';
import type { HandlerServices } from './context';
import { requireBoolean, requireString } from './params';
import type { Handlers } from './types';

/** checkpointId: a string, or null/absent for the base model. */
function checkpointParam(params: unknown): string | null {
  const raw = (params as { checkpointId?: unknown } | null)?.checkpointId;
  return raw === null || raw === undefined ? null : requireString(params, 'checkpointId');
}

export function chatHandlers(s: HandlerServices): Pick<Handlers, 'chat:start' | 'chat:warm' | 'chat:send'> {
  return {
    'chat:start': async (params) =>
      s.chat.start(checkpointParam(params), requireBoolean(params, 'withTeacher')),
    'chat:warm': async (params) =>
      s.chat.warm(checkpointParam(params), requireBoolean(params, 'withTeacher')),
    // Tokens stream as 'chat:token' events while this resolves with the finished turns.
    'chat:send': async (params) => {
      const sampling = (params as { sampling?: unknown } | null)?.sampling;
      if (
        sampling !== undefined &&
        (typeof sampling !== 'object' || sampling === null || Array.isArray(sampling))
      )
        throw new InvalidParamsError('"sampling" must be an object of chat sampling settings', 'sampling');
      const reply = await s.chat.send(
        requireString(params, 'sessionId'),
        requireString(params, 'text'),
        undefined,
        (sampling ?? {}) as Partial<ChatSampling>,
      );
      return { student: reply.student, teacher: reply.teacher };
    },
  };
}
