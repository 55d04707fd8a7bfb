import type { HandlerServices } from './context';
import { HandlerError } from './errors';
import type { Handlers } from './types';

type ReviewChannels =
  'review:create' | 'review:get' | 'review:rate' | 'review:note' | 'review:summary' | 'review:export';

function reviewMissing(channel: string): never {
  throw new HandlerError(`${channel}: the review module is not available in this build`, 'not_available');
}

export function reviewHandlers(_s: HandlerServices): Pick<Handlers, ReviewChannels> {
  return {
    'review:create': async () => reviewMissing('review:create'),
    'review:get': async () => reviewMissing('review:get'),
    'review:rate': async () => reviewMissing('review:rate'),
    'review:note': async () => reviewMissing('review:note'),
    'review:summary': async () => reviewMissing('review:summary'),
    'review:export': async () => reviewMissing('review:export'),
  };
}
