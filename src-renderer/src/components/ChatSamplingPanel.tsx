import type { JSX } from 'react';
import { DEFAULT_CHAT_SAMPLING, type ChatSampling } from '../../../src-shared/contract';

type NumericField = Exclude<keyof ChatSampling, 'seed'>;

const FIELDS: { key: NumericField; label: string; step: number; hint: string }[] = [
  {
    key: 'temperature',
    label: 'Temperature',
    step: 0.05,
    hint: '0 answers greedily (always the same reply).',
  },
  { key: 'topP', label: 'Top-p', step: 0.05, hint: 'Sample from the smallest set of tokens this likely.' },
  { key: 'maxTokens', label: 'Max tokens', step: 16, hint: 'Length limit of a reply.' },
  {
    key: 'repetitionPenalty',
    label: 'Repetition penalty',
    step: 0.05,
    hint: 'Above 1 makes tokens the reply already used less likely (1 = off).',
  },
  {
    key: 'noRepeatNgram',
    label: 'No repeated n-grams',
    step: 1,
    hint: 'Never repeat a run of this many tokens within a reply (0 = off).',
  },
];

/** Chat's sampling, changeable per conversation; blank fields keep the defaults. */
export function ChatSamplingPanel({
  sampling,
  onChange,
}: {
  sampling: Partial<ChatSampling>;
  onChange: (change: Partial<ChatSampling>) => void;
}): JSX.Element {
  return (
    <details className="panel" data-testid="chat-sampling">
      <summary>Sampling</summary>
      <div className="form-grid">
        {FIELDS.map((f) => (
          <div className="field" key={f.key}>
            <label htmlFor={`chat-${f.key}`}>{f.label}</label>
            <input
              id={`chat-${f.key}`}
              type="number"
              step={f.step}
              min={0}
              value={sampling[f.key] ?? DEFAULT_CHAT_SAMPLING[f.key]}
              onChange={(e) => {
                const value = e.target.valueAsNumber;
                if (Number.isFinite(value)) onChange({ [f.key]: value });
              }}
            />
            <p className="hint">{f.hint}</p>
          </div>
        ))}
      </div>
    </details>
  );
}
