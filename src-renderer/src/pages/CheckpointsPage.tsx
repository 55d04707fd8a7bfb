import { useEffect, useState, type JSX } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { EmptyState } from '../components/EmptyState';
import { ErrorNotice } from '../components/ErrorNotice';
import { ModalDeployPanel } from '../components/ModalDeployPanel';
import {
  selectActiveCheckpoint,
  selectCheckpointsNewestFirst,
  useCheckpointsStore,
} from '../stores/checkpoints';
import { selectCurrentRunId, useRunsStore } from '../stores/runs';

export function CheckpointsPage(): JSX.Element {
  const runId = useRunsStore(selectCurrentRunId);
  const rows = useCheckpointsStore(useShallow(selectCheckpointsNewestFirst));
  const active = useCheckpointsStore(selectActiveCheckpoint);
  const { loading, error, busyId, message, exported, overwritePending } = useCheckpointsStore(
    useShallow((s) => ({
      loading: s.loading,
      error: s.error,
      busyId: s.busyId,
      message: s.message,
      exported: s.exported,
      overwritePending: s.overwritePending,
    })),
  );
  const { load, promote, rollback, exportAdapter, confirmOverwrite, cancelOverwrite } = useCheckpointsStore(
    useShallow((s) => ({
      load: s.load,
      promote: s.promote,
      rollback: s.rollback,
      exportAdapter: s.exportAdapter,
      confirmOverwrite: s.confirmOverwrite,
      cancelOverwrite: s.cancelOverwrite,
    })),
  );
  const [onlyThisRun, setOnlyThisRun] = useState(false);
  const [outputDir, setOutputDir] = useState('');
  const [merged, setMerged] = useState(false);
  const filterRun = onlyThisRun ? runId : null;
  useEffect(() => {
    void load(filterRun);
  }, [filterRun, load]);

  return (
    <section aria-labelledby="checkpoints-title">
      <h2 id="checkpoints-title">Checkpoints</h2>
      <p className="muted">
        Every saved adapter with where it came from. Promote the one chat, sample and serve-model should use
        (the registry keeps the last three promoted; the newest promotion is “current”); roll back returns to
        the previously promoted one; export writes a PEFT adapter folder (adapter_config.json +
        adapter_model.safetensors) with a model card, deploy_example.py, a GGUF LoRA and an Ollama Modelfile,
        and with “Merged model” the base with the adapter folded in (safetensors and GGUF).
      </p>
      <div className="panel row">
        <input
          id="checkpoints-only-run"
          type="checkbox"
          checked={onlyThisRun}
          disabled={!runId}
          onChange={(e) => setOnlyThisRun(e.target.checked)}
        />
        <label htmlFor="checkpoints-only-run">Only the current run</label>
        <label htmlFor="checkpoints-output">Export folder (optional)</label>
        <input
          id="checkpoints-output"
          value={outputDir}
          placeholder="default: <data folder>/exports/<checkpoint id>"
          onChange={(e) => setOutputDir(e.target.value)}
        />
        <input
          id="checkpoints-merged"
          type="checkbox"
          data-testid="checkpoints-merged"
          checked={merged}
          onChange={(e) => setMerged(e.target.checked)}
        />
        <label htmlFor="checkpoints-merged">Merged model too</label>
        <button
          type="button"
          data-testid="checkpoints-rollback"
          disabled={busyId !== null}
          onClick={() => void rollback()}
        >
          Roll back promotion
        </button>
      </div>
      <p className="small" data-testid="checkpoints-in-use">
        {active
          ? `In use by chat, sample and serve-model: ${active.lineage.personaId} step ${active.step} (${active.id})${active.current ? ', the current promotion' : ', chosen with “checkpoint use”'}.`
          : 'Nothing promoted yet: chat and serve-model use the newest checkpoint until one is promoted.'}
      </p>
      <ErrorNotice error={error} testId="checkpoints-error" />
      {message && (
        <p className="ok" role="status" data-testid="checkpoints-message">
          {message}
        </p>
      )}
      {overwritePending && (
        <div className="panel" role="alertdialog" data-testid="checkpoints-overwrite-confirm">
          <p>
            <code>{overwritePending.dir}</code> is not empty. Overwrite the export in it? Files an export did
            not write stay.
          </p>
          <div className="row">
            <button type="button" data-testid="checkpoints-overwrite" onClick={() => void confirmOverwrite()}>
              Overwrite
            </button>
            <button type="button" onClick={cancelOverwrite}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {exported && (
        <p className="small" data-testid="checkpoints-exported">
          {exported.dir}: {exported.files.join(', ')}
        </p>
      )}
      {rows.length > 0 && <ModalDeployPanel checkpoints={rows} />}
      {rows.length === 0 && !loading ? (
        <EmptyState title="No checkpoints yet">
          <p>
            Train a student (Wizard → Train, or the Training page); each save writes a checkpoint listed here.
          </p>
        </EmptyState>
      ) : (
        <table data-testid="checkpoints-table">
          <thead>
            <tr>
              <th scope="col">Checkpoint</th>
              <th scope="col">State</th>
              <th scope="col">Lineage</th>
              <th scope="col">Metrics</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <tr key={c.id} data-testid="checkpoint-row">
                <td>
                  <code>{c.id}</code>
                  <div className="small muted">
                    run {c.runId} · step {c.step} · {new Date(c.createdAt).toLocaleString()}
                  </div>
                </td>
                <td>
                  <span className={`badge ${c.state}`} data-testid="checkpoint-state">
                    {c.state}
                  </span>
                  {c.current && (
                    <span className="badge current" data-testid="checkpoint-current">
                      current
                    </span>
                  )}
                  {c.active && !c.current && (
                    <span className="badge current" data-testid="checkpoint-active">
                      in use
                    </span>
                  )}
                </td>
                <td className="small">
                  {c.lineage.personaId} v{c.lineage.personaVersion}
                  <div className="muted">data {c.lineage.dataHash.slice(0, 12)}</div>
                  <div className="muted">
                    {c.lineage.config.baseModel} · r{c.lineage.config.loraR}/α{c.lineage.config.loraAlpha} ·
                    lr {c.lineage.config.learningRate} · {c.lineage.config.maxSteps} steps
                  </div>
                </td>
                <td className="small">
                  {Object.keys(c.metrics).length === 0
                    ? '—'
                    : Object.entries(c.metrics).map(([k, v]) => (
                        <div key={k}>
                          {k}: {Number.isInteger(v) ? v : v.toFixed(4)}
                        </div>
                      ))}
                </td>
                <td>
                  <div className="row">
                    <button
                      type="button"
                      data-testid="checkpoint-promote"
                      disabled={busyId !== null || c.current}
                      onClick={() => void promote(c.id)}
                    >
                      Promote
                    </button>
                    <button
                      type="button"
                      data-testid="checkpoint-export"
                      disabled={busyId !== null}
                      onClick={() =>
                        void exportAdapter(c.id, { outputDir: outputDir.trim() || undefined, merged })
                      }
                    >
                      {busyId === c.id ? 'Working…' : 'Export adapter'}
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
