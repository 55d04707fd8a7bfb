import type { JSX } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { selectLastDraft, useCharacterStore } from '../stores/character';
import { usePersonasStore } from '../stores/personas';
import { ErrorNotice } from './ErrorNotice';
import { ProgressBar } from './ProgressBar';

/**
 * "Draft with a model": from a name and a few lines, the local engine or the configured
 * OpenAI-compatible endpoint drafts a structured YAML constitution, validated before it is shown;
 * it opens in the editor, unsaved, for the user to edit.
 */
export function DraftConstitutionPanel(): JSX.Element {
  const { draftName, draftAbout, draftProvider, drafting, draftError, draftProgress } = useCharacterStore(
    useShallow((s) => ({
      draftName: s.draftName,
      draftAbout: s.draftAbout,
      draftProvider: s.draftProvider,
      drafting: s.drafting,
      draftError: s.draftError,
      draftProgress: s.draftProgress,
    })),
  );
  const lastDraft = useCharacterStore(selectLastDraft);
  const setField = useCharacterStore((s) => s.setDraftField);
  const setProvider = useCharacterStore((s) => s.setDraftProvider);
  const draft = useCharacterStore((s) => s.draftConstitution);
  const startNew = usePersonasStore((s) => s.startNew);
  const setDraft = usePersonasStore((s) => s.setDraft);
  const onDraft = async (): Promise<void> => {
    const result = await draft();
    if (!result) return;
    startNew('yaml');
    setDraft(result.source);
  };
  return (
    <details className="panel" data-testid="persona-draft">
      <summary>Draft with a model</summary>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="draft-name">Name</label>
          <input id="draft-name" value={draftName} onChange={(e) => setField('draftName', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="draft-provider">Model</label>
          <select
            id="draft-provider"
            value={draftProvider}
            onChange={(e) => setProvider(e.target.value as 'local' | 'openai')}
          >
            <option value="local">the local engine (the teacher model)</option>
            <option value="openai">the OpenAI-compatible endpoint in settings</option>
          </select>
        </div>
        <div className="field field-wide">
          <label htmlFor="draft-about">A few lines about them</label>
          <textarea
            id="draft-about"
            rows={3}
            value={draftAbout}
            onChange={(e) => setField('draftAbout', e.target.value)}
          />
          <p className="hint">
            The draft is validated, then opens in the editor unsaved. A small model (the embedded 135M one)
            drafts poorly: read and edit before saving.
          </p>
        </div>
      </div>
      <button
        type="button"
        data-testid="persona-draft-run"
        disabled={drafting || !draftName.trim() || !draftAbout.trim()}
        onClick={() => void onDraft()}
      >
        {drafting ? 'Drafting…' : 'Draft with a model'}
      </button>
      {drafting && (
        <div role="status" data-testid="persona-draft-progress">
          <ProgressBar
            fraction={draftProgress?.fraction ?? 0}
            label={
              draftProgress
                ? `stage ${Math.min(draftProgress.done + 1, draftProgress.total)} of ${draftProgress.total}: ${draftProgress.message}`
                : 'starting the model'
            }
          />
        </div>
      )}
      <ErrorNotice error={draftError} />
      {lastDraft && (
        <ul className="small" data-testid="persona-draft-notes">
          <li>Drafted by {lastDraft.model}.</li>
          {lastDraft.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
          <li>
            {lastDraft.issues.length === 0
              ? 'It validates.'
              : `${lastDraft.issues.length} problem(s) to fix.`}
          </li>
        </ul>
      )}
    </details>
  );
}
