/**
 * Bringing data in on the Data page: a local file of question -> answer pairs (chat JSONL,
 * ShareGPT, Alpaca or Character-LLM) is imported into the imports folder, and a run can be
 * created on an imported file, taking its answers as teacher data (no generation) or its
 * questions only (the teacher answers them).
 */
import { useEffect, useState, type JSX } from 'react';
import {
  IMPORT_FORMATS,
  type ImportedFile,
  type ImportFormat,
  type ImportSummary,
  type ImportUse,
  type Scale,
} from '../../../src-shared/contract';
import { selectImports, useDataStore } from '../stores/data';
import { selectPersonas, usePersonasStore } from '../stores/personas';
import { useRunsStore } from '../stores/runs';
import { ErrorNotice } from './ErrorNotice';
import { formatNumber } from './format';

const FORMAT_LABELS: Readonly<Record<ImportFormat, string>> = {
  chat: 'Chat JSONL (messages)',
  sharegpt: 'ShareGPT (conversations)',
  alpaca: 'Alpaca (instruction/output)',
  characterllm: 'Character-LLM',
};

function ImportResult({ summary }: { summary: ImportSummary }): JSX.Element {
  const unit = summary.unit === 'line' ? 'line' : 'entry';
  return (
    <div data-testid="import-result">
      <p>
        <b>{formatNumber(summary.pairs)}</b> pairs from {formatNumber(summary.records)} {unit}s of{' '}
        {summary.layout}
        {summary.encoding !== 'UTF-8' && <> (read as {summary.encoding})</>} → <code>{summary.out}</code>
      </p>
      <p className="small muted">
        Mean question {summary.meanQuestionWords.toFixed(1)} words, mean answer{' '}
        {summary.meanAnswerWords.toFixed(1)} words
        {summary.systemPrompts > 0 && `; ${summary.systemPrompts} system prompts dropped`}
        {summary.withThinking > 0 && `; reasoning cut out of ${summary.withThinking} answers`}.
      </p>
      {summary.skippedCount > 0 && (
        <details data-testid="import-skipped">
          <summary>
            {summary.skippedCount} {unit}
            {summary.skippedCount === 1 ? '' : 's'} skipped
          </summary>
          <ul className="small">
            {summary.skipped.map((s) => (
              <li key={s.at}>
                {unit} {s.at}: {s.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

/** A run on an imported file: persona, scale, and what the run takes from the file. */
function NewRunFromImport({ file }: { file: ImportedFile }): JSX.Element {
  const personas = usePersonasStore(selectPersonas);
  const createRun = useRunsStore((s) => s.createRun);
  const [personaId, setPersonaId] = useState('');
  const [scale, setScale] = useState<Scale>('smoke');
  const [use, setUse] = useState<ImportUse>('teacher');
  const [busy, setBusy] = useState(false);
  const chosen = personaId || personas.find((p) => p.id === 'beethoven')?.id || personas[0]?.id || '';
  const id = file.name.replace(/[^a-z0-9]+/gi, '-');
  return (
    <div className="row" data-testid="import-new-run">
      <label htmlFor={`import-persona-${id}`}>Persona</label>
      <select id={`import-persona-${id}`} value={chosen} onChange={(e) => setPersonaId(e.target.value)}>
        {personas.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </select>
      <label htmlFor={`import-scale-${id}`}>Scale</label>
      <select id={`import-scale-${id}`} value={scale} onChange={(e) => setScale(e.target.value as Scale)}>
        <option value="smoke">smoke</option>
        <option value="mini">mini</option>
        <option value="paper">paper</option>
      </select>
      <label htmlFor={`import-use-${id}`}>Use</label>
      <select id={`import-use-${id}`} value={use} onChange={(e) => setUse(e.target.value as ImportUse)}>
        <option value="teacher">questions and answers (no teacher)</option>
        <option value="questions">questions only (the teacher answers)</option>
      </select>
      <button
        type="button"
        disabled={!chosen || busy}
        onClick={async () => {
          setBusy(true);
          await createRun(chosen, scale, { path: file.path, use });
          setBusy(false);
        }}
      >
        Create run
      </button>
    </div>
  );
}

export function ImportPanel(): JSX.Element {
  const imports = useDataStore(selectImports);
  const lastImport = useDataStore((s) => s.lastImport);
  const importing = useDataStore((s) => s.importing);
  const importError = useDataStore((s) => s.importError);
  const loadImports = useDataStore((s) => s.loadImports);
  const importFile = useDataStore((s) => s.importFile);
  const loadPersonas = usePersonasStore((s) => s.load);
  const runsError = useRunsStore((s) => s.error);
  const [path, setPath] = useState('');
  const [format, setFormat] = useState<ImportFormat | ''>('');
  const [character, setCharacter] = useState('');
  const [force, setForce] = useState(false);
  const [chosenFile, setChosenFile] = useState('');
  useEffect(() => {
    void loadImports();
    void loadPersonas();
  }, [loadImports, loadPersonas]);
  const file = imports.find((f) => f.path === chosenFile) ?? imports[0] ?? null;
  return (
    <div className="panel" data-testid="import-panel">
      <h3>Import data</h3>
      <p className="small muted">
        Question → answer pairs from a file on this computer: chat JSONL, ShareGPT, Alpaca or Character-LLM
        (the layout is detected). Lines that give no pair are skipped and listed with their number.
      </p>
      <div className="row">
        <label htmlFor="import-path">File</label>
        <input
          id="import-path"
          type="text"
          size={48}
          placeholder="/home/me/data/conversations.jsonl"
          value={path}
          onChange={(e) => setPath(e.target.value)}
        />
        <label htmlFor="import-format">Layout</label>
        <select
          id="import-format"
          value={format}
          onChange={(e) => setFormat(e.target.value as ImportFormat | '')}
        >
          <option value="">detect</option>
          {IMPORT_FORMATS.map((f) => (
            <option key={f} value={f}>
              {FORMAT_LABELS[f]}
            </option>
          ))}
        </select>
        <label htmlFor="import-character">Character</label>
        <input
          id="import-character"
          type="text"
          placeholder="Character-LLM: e.g. Beethoven"
          value={character}
          onChange={(e) => setCharacter(e.target.value)}
        />
        <label>
          <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} /> replace an
          earlier import
        </label>
        <button
          type="button"
          className="primary"
          data-testid="import-submit"
          disabled={!path.trim() || importing}
          onClick={() =>
            void importFile({
              path: path.trim(),
              ...(format ? { format } : {}),
              ...(character.trim() ? { character: character.trim() } : {}),
              force,
            })
          }
        >
          {importing ? 'Importing…' : 'Import'}
        </button>
      </div>
      <ErrorNotice error={importError} testId="import-error" />
      {lastImport && <ImportResult summary={lastImport} />}
      {imports.length > 0 && file && (
        <>
          <h4>Imported files</h4>
          <div className="row">
            <label htmlFor="import-file">Imported file</label>
            <select id="import-file" value={file.path} onChange={(e) => setChosenFile(e.target.value)}>
              {imports.map((f) => (
                <option key={f.path} value={f.path}>
                  {f.name} ({formatNumber(f.pairs)} pairs)
                </option>
              ))}
            </select>
          </div>
          <NewRunFromImport file={file} />
          <ErrorNotice error={runsError} testId="import-run-error" />
        </>
      )}
    </div>
  );
}
