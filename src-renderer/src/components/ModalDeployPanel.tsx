import { useState, type JSX } from 'react';
import type { ApiErrorPayload, ApiResult, CheckpointRow } from '../../../src-shared/contract';
import { MODAL_GPUS, MODAL_PRICE_NOTE, type ModalGpu } from '../../../src-shared/modal-gpus';
import { api } from '../api';
import { toErrorPayload } from '../stores/errors';
import { ErrorNotice } from './ErrorNotice';

type Deployment = ApiResult<'checkpoints:deployModal'>;

/**
 * Deploy to Modal: the chosen checkpoint's merged model is exported with a Modal app (vLLM behind
 * an OpenAI-compatible endpoint) on the picked GPU, and the commands that deploy it are shown.
 * Nothing is sent to Modal from the app: the user runs the commands.
 */
export function ModalDeployPanel({ checkpoints }: { checkpoints: CheckpointRow[] }): JSX.Element {
  const [picked, setPicked] = useState('');
  const [gpu, setGpu] = useState<ModalGpu>('L4');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiErrorPayload | null>(null);
  const [done, setDone] = useState<Deployment | null>(null);
  const id = picked || checkpoints[0]?.id || '';
  const price = MODAL_GPUS.find((g) => g.id === gpu);

  async function deploy(): Promise<void> {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      setDone(await api.invoke('checkpoints:deployModal', { id, gpu }));
    } catch (e) {
      setError(toErrorPayload(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="panel" data-testid="modal-deploy">
      <h3>Deploy to Modal</h3>
      <p className="small muted">
        Exports the merged model with a Modal app that serves it with vLLM behind an OpenAI-compatible
        endpoint, then shows the commands to deploy it (you run them: the app sends nothing to Modal).
      </p>
      <div className="row">
        <label htmlFor="modal-checkpoint">Checkpoint</label>
        <select id="modal-checkpoint" value={id} onChange={(e) => setPicked(e.target.value)}>
          {checkpoints.map((c) => (
            <option key={c.id} value={c.id}>
              {c.id} (step {c.step})
            </option>
          ))}
        </select>
        <label htmlFor="modal-gpu">GPU</label>
        <select
          id="modal-gpu"
          data-testid="modal-gpu"
          value={gpu}
          onChange={(e) => setGpu(e.target.value as ModalGpu)}
        >
          {MODAL_GPUS.map((g) => (
            <option key={g.id} value={g.id}>
              {g.id} ({g.memoryGb} GB) · ${g.usdPerHour.toFixed(2)}/h
            </option>
          ))}
        </select>
        <button
          type="button"
          data-testid="modal-deploy-button"
          disabled={busy || !id}
          onClick={() => void deploy()}
        >
          {busy ? 'Exporting…' : 'Write Modal app'}
        </button>
      </div>
      {price && (
        <p className="small" data-testid="modal-cost">
          About ${price.usdPerHour.toFixed(2)} per hour while a container runs, nothing while idle.{' '}
          {MODAL_PRICE_NOTE}
        </p>
      )}
      <ErrorNotice error={error} testId="modal-deploy-error" />
      {done && (
        <div data-testid="modal-deploy-result">
          <p className="ok" role="status">
            Wrote <code>{done.appFile}</code>: “{done.servedModelName}” on a Modal {done.modalGpu}. To deploy:
          </p>
          <pre>{done.commands.join('\n')}</pre>
        </div>
      )}
    </div>
  );
}
