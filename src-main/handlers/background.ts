/**
 * Long work (a pipeline step, training) runs in the main process, not in the request: the
 * handler starts it, answers at once with the run's state, and progress flows back as events.
 * Closing the window or dropping the HTTP connection therefore never stops training.
 */

/** How long to wait for the work to fail fast (bad order, bad config) before answering (ms). */
const FAIL_FAST_MS = 50;

/**
 * Starts `work` without awaiting its end. Errors thrown before the work gets going (a step
 * whose predecessors have not run, an invalid config) are thrown to the caller; later failures
 * go to `onLateError` (the runner has already recorded them in the run's status, which reaches
 * the renderer as 'run:status').
 */
export async function startInBackground(
  work: () => Promise<unknown>,
  onLateError: (error: unknown) => void,
): Promise<void> {
  let answered = false;
  let failedEarly = false;
  let earlyError: unknown = undefined;
  const running = work().then(
    () => undefined,
    (error: unknown) => {
      if (answered) {
        onLateError(error);
      } else {
        failedEarly = true;
        earlyError = error;
      }
    },
  );
  await Promise.race([running, new Promise((resolve) => setTimeout(resolve, FAIL_FAST_MS))]);
  answered = true;
  if (failedEarly) throw earlyError;
}
