import { api } from '../api';
import { useCharacterStore } from './character';
import { useChatStore } from './chat';
import { useRunsStore } from './runs';
import { useTrainingStore } from './training';

/**
 * Routes main-side events into the stores. Called once by App; returns the unsubscribe.
 * Stores ignore events for runs or sessions they are not showing.
 */
export function connectEvents(): () => void {
  const unsubscribers = [
    api.on('run:status', (run) => {
      useRunsStore.getState().applyRunStatus(run);
      useTrainingStore.getState().applyRunStatus(run);
    }),
    api.on('job:progress', (event) => useRunsStore.getState().applyProgress(event)),
    api.on('training:metric', (event) => useTrainingStore.getState().receiveMetric(event)),
    api.on('training:checkpoint', (event) => useTrainingStore.getState().receiveCheckpoint(event)),
    api.on('chat:token', (event) => useChatStore.getState().receiveToken(event)),
    api.on('personas:draftProgress', (event) => useCharacterStore.getState().receiveDraftProgress(event)),
  ];
  return () => {
    for (const unsubscribe of unsubscribers) unsubscribe();
  };
}
