import { useEffect, type JSX } from 'react';
import { selectCurrentRunId, selectRuns, useRunsStore } from '../stores/runs';

/** Chooses the run every page shows; remembered across reloads. */
export function RunPicker(): JSX.Element {
  const runs = useRunsStore(selectRuns);
  const currentRunId = useRunsStore(selectCurrentRunId);
  const selectRun = useRunsStore((s) => s.selectRun);
  const loadRuns = useRunsStore((s) => s.loadRuns);
  useEffect(() => {
    void loadRuns();
  }, [loadRuns]);
  return (
    <div className="run-picker">
      <label htmlFor="run-picker">Run</label>
      <select
        id="run-picker"
        data-testid="run-picker"
        value={currentRunId ?? ''}
        onChange={(e) => selectRun(e.target.value || null)}
      >
        {runs.length === 0 && <option value="">No runs yet — start one in the Wizard</option>}
        {runs.map((run) => (
          <option key={run.id} value={run.id}>
            {run.personaId} · {run.scale} · {run.status}
            {run.step ? ` (${run.step})` : ''} · {run.id}
          </option>
        ))}
      </select>
    </div>
  );
}
