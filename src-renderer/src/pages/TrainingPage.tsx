import { useEffect, type JSX } from 'react';
import { useShallow } from 'zustand/react/shallow';
import {
  TRAINING_OBJECTIVE_INFO,
  DEFAULT_OBJECTIVE,
  DEFAULT_OBJECTIVE_REASON,
  TRAINING_OBJECTIVES,
  type TrainingConfig,
  type TrainingObjective,
} from '../../../src-shared/contract';
import { LOSS_NAMES, lossKindOf } from '../../../src-shared/losses';
import { CharacterRecipePanel } from '../components/CharacterRecipePanel';
import { EmptyState } from '../components/EmptyState';
import { ErrorNotice } from '../components/ErrorNotice';
import { formatNumber, formatSeconds } from '../components/format';
import { LossChart } from '../components/LossChart';
import { ProgressBar } from '../components/ProgressBar';
import { selectCharacterOptions, useCharacterStore } from '../stores/character';
import { selectCurrentRun, useRunsStore } from '../stores/runs';
import {
  selectIsTraining,
  selectLatestLoss,
  selectSavedCheckpoints,
  selectTokensPerS,
  selectTrainingConfig,
  selectTrainingError,
  selectTrainingJob,
  useTrainingStore,
} from '../stores/training';

/** How often the page refreshes the job's ETA while training runs (ms). */
const STATUS_POLL_MS = 5000;

type NumberField = {
  [K in keyof TrainingConfig]: TrainingConfig[K] extends number ? K : never;
}[keyof TrainingConfig];

interface FieldSpec {
  key: NumberField;
  label: string;
  hint: string;
  step: number;
  min: number;
}

const NUMBER_FIELDS: FieldSpec[] = [
  {
    key: 'loraR',
    label: 'LoRA rank (r)',
    hint: 'Width of the low-rank update; higher learns more, costs more memory.',
    step: 1,
    min: 1,
  },
  {
    key: 'loraAlpha',
    label: 'LoRA alpha',
    hint: 'Scale of the update (alpha / r); usually 2 × rank.',
    step: 1,
    min: 1,
  },
  {
    key: 'loraDropout',
    label: 'LoRA dropout',
    hint: 'Share of the update dropped while training (0–1), against overfitting.',
    step: 0.01,
    min: 0,
  },
  {
    key: 'learningRate',
    label: 'Learning rate',
    hint: 'Step size of the optimizer; 1e-4 is a safe start for LoRA.',
    step: 0.00001,
    min: 0,
  },
  {
    key: 'warmupSteps',
    label: 'Warm-up steps',
    hint: 'Steps over which the learning rate ramps up from 0.',
    step: 1,
    min: 0,
  },
  {
    key: 'batchSize',
    label: 'Batch size',
    hint: 'Examples per forward pass; limited by memory.',
    step: 1,
    min: 1,
  },
  {
    key: 'gradAccum',
    label: 'Gradient accumulation',
    hint: 'Batches summed before each optimizer step (effective batch = batch × this).',
    step: 1,
    min: 1,
  },
  { key: 'maxSteps', label: 'Max steps', hint: 'Optimizer steps to train for.', step: 1, min: 1 },
  {
    key: 'maxLength',
    label: 'Max length (tokens)',
    hint: 'Longer question + answer pairs are truncated to this.',
    step: 16,
    min: 16,
  },
  {
    key: 'evalEvery',
    label: 'Validate every (steps)',
    hint: 'How often the validation loss is measured.',
    step: 1,
    min: 1,
  },
  {
    key: 'saveEvery',
    label: 'Save every (steps)',
    hint: 'How often a checkpoint (adapter + optimizer state) is written.',
    step: 1,
    min: 1,
  },
  { key: 'seed', label: 'Seed', hint: 'Same seed and data give the same run.', step: 1, min: 0 },
];

function ConfigForm({ disabled }: { disabled: boolean }): JSX.Element | null {
  const config = useTrainingStore(selectTrainingConfig);
  const setField = useTrainingStore((s) => s.setConfigField);
  const resetConfig = useTrainingStore((s) => s.resetConfig);
  if (!config) return <p className="muted">Loading the defaults for this scale…</p>;
  return (
    <fieldset className="panel" disabled={disabled} data-testid="training-form">
      <legend>Hyperparameters</legend>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="cfg-baseModel">Base model</label>
          <input
            id="cfg-baseModel"
            value={config.baseModel}
            onChange={(e) => setField('baseModel', e.target.value)}
          />
          <p className="hint">
            The student before training: “default” is the embedded SmolLM2-135M-Instruct.
          </p>
        </div>
        <div className="field field-wide">
          <label htmlFor="cfg-objective">Objective</label>
          <select
            id="cfg-objective"
            value={config.objective}
            onChange={(e) => setField('objective', e.target.value as TrainingObjective)}
          >
            {TRAINING_OBJECTIVES.map((o) => (
              <option key={o} value={o}>
                {TRAINING_OBJECTIVE_INFO[o].label}
                {o === DEFAULT_OBJECTIVE ? ' (default)' : ''}
              </option>
            ))}
          </select>
          <p className="hint" data-testid="objective-explanation">
            {TRAINING_OBJECTIVE_INFO[config.objective].text}
          </p>
          <p className="hint" data-testid="objective-default-reason">
            Why {DEFAULT_OBJECTIVE} is the default: {DEFAULT_OBJECTIVE_REASON}
          </p>
        </div>
        {config.objective === 'on-policy' && (
          <div className="field">
            <label htmlFor="cfg-kdWeight">kd weight</label>
            <input
              id="cfg-kdWeight"
              type="number"
              step={0.1}
              min={0}
              value={config.kdWeight}
              onChange={(e) => {
                const value = e.target.valueAsNumber;
                if (Number.isFinite(value)) setField('kdWeight', value);
              }}
            />
            <p className="hint">Adds this times the kd loss on the teacher’s answers (0 = on-policy only).</p>
          </div>
        )}
        <div className="field">
          <label htmlFor="cfg-schedule">Learning-rate schedule</label>
          <select
            id="cfg-schedule"
            value={config.schedule}
            onChange={(e) => setField('schedule', e.target.value as TrainingConfig['schedule'])}
          >
            <option value="linear">linear decay</option>
            <option value="cosine">cosine decay</option>
            <option value="constant">constant</option>
          </select>
          <p className="hint">How the learning rate falls after warm-up.</p>
        </div>
        <div className="field">
          <label htmlFor="cfg-targetModules">Target modules</label>
          <input
            id="cfg-targetModules"
            value={config.targetModules.join(', ')}
            onChange={(e) =>
              setField(
                'targetModules',
                e.target.value
                  .split(',')
                  .map((m) => m.trim())
                  .filter(Boolean),
              )
            }
          />
          <p className="hint">Layers that get LoRA adapters, comma separated (q_proj, k_proj, v_proj…).</p>
        </div>
        {NUMBER_FIELDS.map((f) => (
          <div className="field" key={f.key}>
            <label htmlFor={`cfg-${f.key}`}>{f.label}</label>
            <input
              id={`cfg-${f.key}`}
              type="number"
              step={f.step}
              min={f.min}
              value={config[f.key]}
              onChange={(e) => {
                const value = e.target.valueAsNumber;
                if (Number.isFinite(value)) setField(f.key, value);
              }}
            />
            <p className="hint">{f.hint}</p>
          </div>
        ))}
      </div>
      <button type="button" onClick={resetConfig}>
        Reset to defaults
      </button>
    </fieldset>
  );
}

function LiveStats(): JSX.Element {
  const job = useTrainingStore(selectTrainingJob);
  const form = useTrainingStore(selectTrainingConfig);
  const tokensPerS = useTrainingStore(selectTokensPerS);
  const latest = useTrainingStore(useShallow(selectLatestLoss));
  // Each loss named for what it is (src-shared/losses.ts): a kd run's loss is no NLL.
  const objective = job?.config.objective ?? form?.objective ?? DEFAULT_OBJECTIVE;
  const trainName = LOSS_NAMES[lossKindOf(objective, 'train')];
  const valName = LOSS_NAMES[lossKindOf(objective, 'eval')];
  return (
    <div className="stats" data-testid="training-stats">
      <div className="stat">
        <strong data-testid="training-step">{job ? `${job.step} / ${job.totalSteps}` : '—'}</strong>
        step
      </div>
      <div className="stat" title={trainName.long}>
        <strong data-testid="training-train-loss">
          {latest.train === null ? '—' : latest.train.toFixed(4)}
        </strong>
        train {trainName.short}
      </div>
      <div className="stat" title={valName.long}>
        <strong data-testid="training-val-loss">{latest.eval === null ? '—' : latest.eval.toFixed(4)}</strong>
        validation {valName.short}
      </div>
      {valName.key !== 'Nll' && latest.evalNll !== null && (
        <div className="stat" title={LOSS_NAMES.nll.long}>
          <strong data-testid="training-val-nll">{latest.evalNll.toFixed(4)}</strong>validation NLL
        </div>
      )}
      <div className="stat">
        <strong data-testid="training-tokens-per-s">{formatNumber(tokensPerS, 1)}</strong>tokens/s
      </div>
      <div className="stat">
        <strong data-testid="training-eta">{formatSeconds(job?.etaSeconds)}</strong>ETA
      </div>
      <div className="stat">
        <strong data-testid="training-status">{job?.status ?? 'not started'}</strong>status
      </div>
    </div>
  );
}

export function TrainingPage(): JSX.Element {
  const run = useRunsStore(selectCurrentRun);
  const runId = run?.id ?? null;
  const scale = run?.scale ?? null;
  const job = useTrainingStore(selectTrainingJob);
  const training = useTrainingStore(selectIsTraining);
  const error = useTrainingStore(selectTrainingError);
  const checkpoints = useTrainingStore(selectSavedCheckpoints);
  const pointCount = useTrainingStore((s) => s.points.length);
  const characterOptions = useCharacterStore(selectCharacterOptions);
  const { catchUp, loadStatus, loadCheckpoints, loadDefaults, start, cancel } = useTrainingStore(
    useShallow((s) => ({
      catchUp: s.catchUp,
      loadStatus: s.loadStatus,
      loadCheckpoints: s.loadCheckpoints,
      loadDefaults: s.loadDefaults,
      start: s.start,
      cancel: s.cancel,
    })),
  );

  useEffect(() => {
    if (!runId) return;
    // Catch up on mount: a reload (or coming back to this page) shows the whole curve so far.
    void catchUp(runId);
    void loadStatus(runId);
    void loadCheckpoints(runId);
  }, [runId, catchUp, loadStatus, loadCheckpoints]);
  useEffect(() => {
    if (scale) void loadDefaults(scale);
  }, [scale, loadDefaults]);
  useEffect(() => {
    if (!runId || !training) return;
    const timer = setInterval(() => void loadStatus(runId), STATUS_POLL_MS);
    return () => clearInterval(timer);
  }, [runId, training, loadStatus]);

  if (!runId) {
    return (
      <section>
        <h2>Training</h2>
        <EmptyState title="No run selected">
          <p>
            Create a run in the Wizard and prepare its data (questions, teacher data, audit and split) first.
          </p>
        </EmptyState>
      </section>
    );
  }
  return (
    <section aria-labelledby="training-title">
      <h2 id="training-title">Training</h2>
      <p className="muted">
        The student learns to answer like the teacher without seeing the persona prompt. Losses are measured
        on the answer tokens only and named for what they are (a kd loss is no NLL); watch the validation loss
        to spot overfitting. The Evaluation page’s NLL scores the validation answers as text with an end token
        after each, so it reads higher than the validation NLL here.
      </p>
      <ConfigForm disabled={training} />
      <CharacterRecipePanel runId={runId} disabled={training} />
      <div className="row">
        <button
          type="button"
          className="primary"
          data-testid="training-start"
          disabled={training}
          onClick={() => void start(runId, characterOptions)}
        >
          Start training
        </button>
        <button
          type="button"
          className="danger"
          data-testid="training-cancel"
          disabled={!training}
          onClick={() => void cancel(runId)}
        >
          Cancel
        </button>
      </div>
      <ErrorNotice error={error} testId="training-error" />
      <div className="panel">
        <LiveStats />
        {job && job.totalSteps > 0 && (
          <ProgressBar
            fraction={job.step / job.totalSteps}
            label="of the steps done"
            testId="training-progress"
          />
        )}
        <LossChart />
        {pointCount === 0 && (
          <p className="muted" data-testid="loss-empty">
            No loss yet: start training and the curve draws itself as steps finish.
          </p>
        )}
      </div>
      <div className="panel" data-testid="training-checkpoints">
        <h3>Checkpoints of this run</h3>
        {checkpoints.length === 0 ? (
          <p className="muted">Checkpoints appear here as they are saved (every “Save every” steps).</p>
        ) : (
          <ul>
            {checkpoints.map((c) => (
              <li key={c.id} data-testid="training-checkpoint">
                step {c.step} · {c.state}
                {Object.entries(c.metrics).map(([k, v]) => ` · ${k} ${v.toFixed(4)}`)}
                <span className="small muted"> · {c.path}</span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
