import { useEffect, type JSX } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { DraftConstitutionPanel } from '../components/DraftConstitutionPanel';
import { EmptyState } from '../components/EmptyState';
import { ErrorNotice } from '../components/ErrorNotice';
import {
  selectCanSave,
  selectDraftWordCount,
  selectPersonas,
  selectValidationIssues,
  usePersonasStore,
  type PersonaFormat,
} from '../stores/personas';

/** Wait this long after the last keystroke before asking the main side to validate (ms). */
const VALIDATE_DEBOUNCE_MS = 400;

function Gallery(): JSX.Element {
  const personas = usePersonasStore(selectPersonas);
  const selectedId = usePersonasStore((s) => s.selectedId);
  const select = usePersonasStore((s) => s.select);
  if (personas.length === 0) {
    return (
      <EmptyState title="No personas yet">
        <p>
          Start a new one with the buttons above: paste a 450–600 word constitution as text, or write YAML.
        </p>
      </EmptyState>
    );
  }
  return (
    <div className="gallery" data-testid="persona-gallery">
      {personas.map((p) => (
        <button
          key={p.id}
          type="button"
          className="card"
          aria-pressed={p.id === selectedId}
          data-testid={`persona-card-${p.id}`}
          onClick={() => void select(p.id)}
        >
          <span>
            <strong>{p.name}</strong> <span className="badge">v{p.version}</span>
            {p.builtIn && <span className="badge">built in</span>}
          </span>
          <div className="small muted">{p.description}</div>
          <div className="small muted">
            {p.wordCount} words · {p.format}
          </div>
        </button>
      ))}
    </div>
  );
}

function Editor(): JSX.Element {
  const draft = usePersonasStore((s) => s.draft);
  const format = usePersonasStore((s) => s.format);
  const detail = usePersonasStore((s) => s.detail);
  const dirty = usePersonasStore((s) => s.dirty);
  const validation = usePersonasStore((s) => s.validation);
  const validating = usePersonasStore((s) => s.validating);
  const saving = usePersonasStore((s) => s.saving);
  const savedMessage = usePersonasStore((s) => s.savedMessage);
  const issues = usePersonasStore(useShallow(selectValidationIssues));
  const words = usePersonasStore(selectDraftWordCount);
  const canSave = usePersonasStore(selectCanSave);
  const setDraft = usePersonasStore((s) => s.setDraft);
  const setFormat = usePersonasStore((s) => s.setFormat);
  const validate = usePersonasStore((s) => s.validate);
  const save = usePersonasStore((s) => s.save);
  const builtInConflict = usePersonasStore((s) => s.builtInConflict);
  const cancelBuiltInSave = usePersonasStore((s) => s.cancelBuiltInSave);
  useEffect(() => {
    if (!draft.trim()) return;
    const timer = setTimeout(() => void validate(), VALIDATE_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [draft, format, validate]);
  return (
    <div className="panel" data-testid="persona-editor">
      <h3>{detail ? `${detail.name} (v${detail.version})` : 'New persona'}</h3>
      {detail?.builtIn && (
        <p className="small muted">
          Built-in personas are not changed in place: saving stores a new version.
        </p>
      )}
      <div className="row">
        <label htmlFor="persona-format">Format</label>
        <select
          id="persona-format"
          value={format}
          onChange={(e) => setFormat(e.target.value as PersonaFormat)}
        >
          <option value="yaml">YAML (name, description, system_prompt, keywords…)</option>
          <option value="text">Plain text (the whole text is the system prompt)</option>
        </select>
      </div>
      <label htmlFor="persona-source">Constitution</label>
      <textarea
        id="persona-source"
        className="editor"
        data-testid="persona-source"
        spellCheck={false}
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        aria-describedby="persona-counts persona-issues"
        aria-invalid={issues.length > 0}
      />
      <p id="persona-counts" className="small" data-testid="persona-counts">
        {validation?.wordCount ?? words} words
        {validation?.tokenCount != null ? ` · ${validation.tokenCount} tokens` : ''}
        {validating ? ' · checking…' : ''}
        {(validation?.wordCount ?? words) < 450 && ' · a strong constitution has about 450–600 words'}
      </p>
      <div id="persona-issues" aria-live="polite">
        {issues.length > 0 ? (
          <ul className="issues" data-testid="persona-issues">
            {issues.map((issue, i) => (
              <li key={i}>
                {issue.line !== null && <b>Line {issue.line}</b>}
                {issue.line !== null && issue.field !== null && ', '}
                {issue.field !== null && <code>{issue.field}</code>}
                {(issue.line !== null || issue.field !== null) && ': '}
                {issue.message}
              </li>
            ))}
          </ul>
        ) : (
          <>
            {validation && <p className="ok small">No problems found.</p>}
            {!draft.trim() && (
              <p className="bad small" data-testid="persona-empty">
                The persona is empty: write its constitution (or start from a template) before saving.
              </p>
            )}
          </>
        )}
      </div>
      <div className="row">
        <button
          type="button"
          className="primary"
          data-testid="persona-save"
          disabled={!canSave || !dirty}
          onClick={() => void save()}
        >
          {saving ? 'Saving…' : 'Save'}
        </button>
        {savedMessage && (
          <span className="ok" role="status">
            {savedMessage}
          </span>
        )}
      </div>
      {builtInConflict && (
        <div
          className="panel warn"
          role="alertdialog"
          aria-label="Save over a built-in persona"
          data-testid="persona-builtin-confirm"
        >
          <p>
            “{builtInConflict}” is a built-in persona. Saving makes this its next version, and runs of “
            {builtInConflict}” will use it. To keep the built-in as it is, give yours another id (meta.id in
            YAML, the “# Name” line in text).
          </p>
          <button type="button" data-testid="persona-save-builtin" onClick={() => void save(true)}>
            Save as its next version
          </button>{' '}
          <button type="button" onClick={cancelBuiltInSave}>
            Cancel
          </button>
        </div>
      )}
    </div>
  );
}

export function PersonasPage(): JSX.Element {
  const load = usePersonasStore((s) => s.load);
  const error = usePersonasStore((s) => s.error);
  const startNew = usePersonasStore((s) => s.startNew);
  const editing = usePersonasStore((s) => s.editorOpen);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <section aria-labelledby="personas-title">
      <h2 id="personas-title">Personas</h2>
      <p className="muted">
        A persona is the constitution the teacher sees as its system prompt. Pick one to read or edit it, or
        start a new one.
      </p>
      <div className="row">
        <button type="button" data-testid="persona-new-yaml" onClick={() => startNew('yaml')}>
          New YAML persona
        </button>
        <button type="button" data-testid="persona-new-text" onClick={() => startNew('text')}>
          New text persona
        </button>
      </div>
      <DraftConstitutionPanel />
      <ErrorNotice error={error} />
      <Gallery />
      {editing && <Editor />}
    </section>
  );
}
