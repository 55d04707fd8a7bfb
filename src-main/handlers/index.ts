/**
 * createHandlers: one small async function per contract channel, grouped by domain. Both
 * transports call these (Electron IPC through src-main/electron/ipc.ts, the loopback bridge
 * through src-main/bridge/server.ts); dispatch() turns their typed errors into payloads.
 */
import { appHandlers } from './app';
import { characterHandlers } from './character';
import { chatHandlers } from './chat';
import { checkpointHandlers } from './checkpoints';
import { modalHandlers } from './modal';
import type { HandlerServices } from './context';
import { dataHandlers } from './data';
import { estimateStep } from '../runs/estimate';
import { evaluationHandlers } from './evaluation';
import { requireString } from './params';
import { pairwiseHandlers } from './pairwise';
import { personaHandlers } from './personas';
import { reviewHandlers } from './review';
import { requireStep, runHandlers } from './runs';
import { trainingHandlers } from './training';
import type { Handlers } from './types';

export type { HandlerServices } from './context';
export type { Handlers, EventFeed } from './types';
export { dispatch } from './dispatch';
export { toErrorPayload, httpStatusFor } from './errors';

export function createHandlers(services: HandlerServices): Handlers {
  return {
    ...appHandlers(services),
    ...personaHandlers(services),
    ...runHandlers(services),
    'runs:estimate': async (params) =>
      estimateStep(
        services,
        services.store.runs.require(requireString(params, 'runId')),
        requireStep(params),
      ),
    ...dataHandlers(services),
    ...trainingHandlers(services),
    ...checkpointHandlers(services),
    ...modalHandlers(services),
    ...evaluationHandlers(services),
    ...reviewHandlers(services),
    ...pairwiseHandlers(services),
    ...chatHandlers(services),
    ...characterHandlers(services),
  };
}
