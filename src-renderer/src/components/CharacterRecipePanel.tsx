import { useEffect, useState, type JSX } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { CharacterRecipeOptions, SmokeChoice } from '../../../src-shared/character';
import {
  selectCharacterOptions,
  selectIsCharacterRecipe,
  selectLiveEstimate,
  selectSmoke,
  useCharacterStore,
} from '../stores/character';
import { ErrorNotice } from './ErrorNotice';
import { formatNumber, formatSeconds } from './format';

type CountField = 'reflectionSamples' | 'interactions' | 'interactionTurns';

const COUNT_FIELDS: { key: CountField; label: string; hint: string; min: number; max?: number }[] = [
  {
    key: 'reflectionSamples',
    label: 'Reflections per prompt',
    hint: 'Answers to each of the 10 self-reflection prompts (the paper: about 1,000).',
    min: 1,
  },
  {
    key: 'interactions',
    label: 'Self-interactions',
    hint: 'Conversations of the character with itself (the paper: about 2,000).',
    min: 0,
  },
  { key: 'interactionTurns', label: 'Turns each', hint: 'Both speakers counted, up to 10.', min: 2, max: 10 },
];

function Introspection({
  options,
  disabled,
}: {
  options: CharacterRecipeOptions;
  disabled: boolean;
}): JSX.Element {
  const setOption = useCharacterStore((s) => s.setOption);
  const estimate = useCharacterStore(useShallow(selectLiveEstimate));
  return (
    <>
      {COUNT_FIELDS.map((f) => (
        <div className="field" key={f.key}>
          <label htmlFor={`oct-${f.key}`}>{f.label}</label>
          <input
            id={`oct-${f.key}`}
            type="number"
            min={f.min}
            max={f.max}
            step={1}
            disabled={disabled}
            value={options[f.key]}
            onChange={(e) => {
              const v = e.target.valueAsNumber;
              if (Number.isInteger(v)) setOption(f.key, v);
            }}
          />
          <p className="hint">{f.hint}</p>
        </div>
      ))}
      {estimate && (
        <p className="small field-wide" data-testid="oct-estimate">
          Before training starts: {formatNumber(estimate.reflections)} self-reflections +{' '}
          {formatNumber(estimate.interactions)} self-interactions × {estimate.interactionTurns} turns ={' '}
          {formatNumber(estimate.generations)} answers from the DPO checkpoint, at most{' '}
          {formatNumber(estimate.maxTokens)} tokens, about {formatSeconds(estimate.seconds)} here.
        </p>
      )}
    </>
  );
}

function SmokeCheck({ runId }: { runId: string }): JSX.Element {
  const [which, setWhich] = useState<SmokeChoice>('both');
  const smoking = useCharacterStore((s) => s.smoking);
  const smoke = useCharacterStore(useShallow(selectSmoke));
  const runSmoke = useCharacterStore((s) => s.runSmoke);
  return (
    <div className="field field-wide" data-testid="oct-smoke">
      <label htmlFor="oct-smoke-which">Smoke check before paper scale</label>
      <div className="row">
        <select id="oct-smoke-which" value={which} onChange={(e) => setWhich(e.target.value as SmokeChoice)}>
          <option value="both">small, then large</option>
          <option value="small">small only</option>
          <option value="large">large only</option>
        </select>
        <button type="button" disabled={smoking} onClick={() => void runSmoke(runId, which)}>
          {smoking ? 'Running the smoke passes…' : 'Run smoke check'}
        </button>
      </div>
      <p className="hint">
        This run’s models, recipe and settings end to end on tiny data and a few steps (small: the smoke
        scale; large: the paper scale’s training settings), so a configuration error shows in a minute, not
        after an hour. The CLI runs both before every --scale paper run unless --no-smoke.
      </p>
      {smoke && (
        <ul data-testid="oct-smoke-result">
          {smoke.passes.map((p) => (
            <li key={p.size} className={p.ok ? 'ok' : 'error'}>
              {p.size}: {p.ok ? 'passed' : `failed at ${p.failedStep ?? 'start'}: ${p.error ?? ''}`} in{' '}
              {formatSeconds(p.seconds)} ({p.runId})
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Open Character Training's options of a character-recipe run; nothing for the other recipes. */
export function CharacterRecipePanel({
  runId,
  disabled,
}: {
  runId: string;
  disabled: boolean;
}): JSX.Element | null {
  const loadRecipe = useCharacterStore((s) => s.loadRecipe);
  const isCharacter = useCharacterStore(selectIsCharacterRecipe);
  const options = useCharacterStore(selectCharacterOptions);
  const error = useCharacterStore((s) => s.recipeError);
  const setOption = useCharacterStore((s) => s.setOption);
  useEffect(() => {
    void loadRecipe(runId);
  }, [runId, loadRecipe]);
  if (!isCharacter || !options) return null;
  const paper = options.mode === 'paper';
  return (
    <fieldset className="panel" disabled={disabled} data-testid="oct-panel">
      <legend>Open Character Training</legend>
      <div className="form-grid">
        <div className="field field-wide">
          <label htmlFor="oct-mode">Mode</label>
          <select
            id="oct-mode"
            value={options.mode}
            onChange={(e) => setOption('mode', e.target.value as CharacterRecipeOptions['mode'])}
          >
            <option value="sequential">Sequential: introspection SFT continues from the DPO adapter</option>
            <option value="paper">Paper mode: introspection SFT from the base, DPO kept apart</option>
          </select>
          <p className="hint">
            Sequential gives one checkpoint with both stages. Paper mode trains the two adapters apart; merge
            them to get one model with both.
          </p>
        </div>
        {paper && (
          <div className="field">
            <label htmlFor="oct-merge">
              <input
                id="oct-merge"
                type="checkbox"
                checked={options.merge}
                onChange={(e) => setOption('merge', e.target.checked)}
              />{' '}
              Merge DPO and SFT
            </label>
            <p className="hint">One adapter equal to the weighted sum of both low-rank updates (exact).</p>
          </div>
        )}
        {paper &&
          options.merge &&
          (['dpo', 'sft'] as const).map((k) => (
            <div className="field" key={k}>
              <label htmlFor={`oct-weight-${k}`}>{k.toUpperCase()} weight</label>
              <input
                id={`oct-weight-${k}`}
                type="number"
                min={0}
                step={0.1}
                value={options.mergeWeights[k]}
                onChange={(e) => {
                  const v = e.target.valueAsNumber;
                  if (Number.isFinite(v)) setOption('mergeWeights', { ...options.mergeWeights, [k]: v });
                }}
              />
              <p className="hint">Weight of the {k.toUpperCase()} update in the merged adapter.</p>
            </div>
          ))}
        <Introspection options={options} disabled={disabled} />
        <SmokeCheck runId={runId} />
      </div>
      <ErrorNotice error={error} />
    </fieldset>
  );
}
