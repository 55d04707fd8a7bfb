// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  CharacterRecipeOptions,
  ConstitutionDraft,
  RevealedPreferencesSummary,
} from '../../src-shared/character';
import { callsTo, fakeApi, handle, resetFakeApi } from './fakeApi';
import { configFixture } from './fixtures';

vi.mock('../../src-renderer/src/api', () => ({ api: fakeApi }));

const { CharacterRecipePanel } = await import('../../src-renderer/src/components/CharacterRecipePanel');
const { RevealedPreferencesPanel, StagesPanel } =
  await import('../../src-renderer/src/components/CharacterEvalPanels');
const { DraftConstitutionPanel } = await import('../../src-renderer/src/components/DraftConstitutionPanel');
const { resetCharacterStore, useCharacterStore } = await import('../../src-renderer/src/stores/character');
const { resetTrainingStore, useTrainingStore } = await import('../../src-renderer/src/stores/training');
const { resetPersonasStore, usePersonasStore } = await import('../../src-renderer/src/stores/personas');

const options: CharacterRecipeOptions = {
  mode: 'sequential',
  merge: false,
  mergeWeights: { dpo: 1, sft: 1 },
  reflectionSamples: 3,
  interactions: 8,
  interactionTurns: 10,
};

async function settle(): Promise<void> {
  await act(async () => {
    await new Promise((r) => setTimeout(r, 0));
  });
}

beforeEach(() => {
  resetFakeApi();
  resetCharacterStore();
  resetTrainingStore();
  resetPersonasStore();
});
afterEach(cleanup);

describe('the Training page’s Open Character Training panel', () => {
  it('shows the counts before training, switches to paper mode with merge, and runs the smoke check', async () => {
    handle('training:recipe', () => ({
      recipe: 'character',
      character: options,
      // 110 answers of 64 tokens at 10 s per 100 tokens.
      estimate: {
        prompts: 10,
        reflections: 30,
        interactions: 8,
        interactionTurns: 10,
        generations: 110,
        maxTokens: 7040,
        seconds: 704,
      },
    }));
    handle('runs:smoke', () => ({
      ok: false,
      passes: [
        { size: 'small', runId: 'r-s', ok: false, seconds: 7, failedStep: 'train', error: 'bad tokens' },
      ],
    }));
    render(<CharacterRecipePanel runId="run-1" disabled={false} />);
    await settle();
    expect(screen.getByTestId('oct-estimate').textContent).toMatch(
      /30 self-reflections \+ 8 self-interactions × 10 turns = 110 answers/,
    );
    fireEvent.change(screen.getByLabelText('Reflections per prompt'), { target: { value: '10' } });
    expect(screen.getByTestId('oct-estimate').textContent).toMatch(/100 self-reflections .* = 180 answers/);
    expect(screen.queryByLabelText(/Merge DPO and SFT/)).toBeNull();
    fireEvent.change(screen.getByLabelText('Mode'), { target: { value: 'paper' } });
    fireEvent.click(screen.getByLabelText(/Merge DPO and SFT/));
    fireEvent.change(screen.getByLabelText('DPO weight'), { target: { value: '0.5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run smoke check' }));
    await settle();
    expect(callsTo('runs:smoke')).toEqual([{ runId: 'run-1', which: 'both' }]);
    expect(screen.getByTestId('oct-smoke-result').textContent).toMatch(/small: failed at train: bad tokens/);

    // Starting training sends the options as edited.
    handle('training:start', (p) => ({
      id: '',
      runId: p.runId,
      status: 'pending',
      config: p.config,
      step: 0,
      totalSteps: 1,
      tokensPerS: null,
      etaSeconds: null,
    }));
    useTrainingStore.setState({ config: configFixture });
    const { useCharacterStore } = await import('../../src-renderer/src/stores/character');
    await useTrainingStore.getState().start('run-1', useCharacterStore.getState().options);
    expect(callsTo('training:start')[0]).toMatchObject({
      character: { mode: 'paper', merge: true, mergeWeights: { dpo: 0.5, sft: 1 }, reflectionSamples: 10 },
    });
  });

  it('stays hidden for other recipes', async () => {
    handle('training:recipe', () => ({ recipe: 'distill', character: null, estimate: null }));
    render(<CharacterRecipePanel runId="run-2" disabled={false} />);
    await settle();
    expect(screen.queryByTestId('oct-panel')).toBeNull();
  });
});

describe('the Evaluation page’s character panels', () => {
  it('show revealed-preference Elo side by side and every stage with intervals', () => {
    const revealed: RevealedPreferencesSummary = {
      traits: [
        { trait: 'proud', source: 'constitution' },
        { trait: 'neutral', source: 'contrast' },
      ],
      elo: {
        base: { proud: 990, neutral: 1010 },
        teacher: { proud: 1040, neutral: 960 },
        student: { proud: 1020, neutral: 980 },
      },
      constitutionShare: {
        base: { value: 0.25, interval: { low: 0.1, high: 0.4 }, n: 36 },
        student: { value: 0.6, interval: { low: 0.45, high: 0.75 }, n: 36 },
      },
      choices: { base: 92, teacher: 92, student: 92 },
      method: 'forced choice',
    };
    render(
      <>
        <RevealedPreferencesPanel summary={revealed} />
        <StagesPanel
          stages={[
            {
              stage: 'dpo',
              checkpointId: 'c1',
              captured: 0.1,
              capturedInterval: { low: 0.05, high: 0.15 },
              klPerToken: 0.3,
              inCharacterShare: 0.5,
              inCharacterInterval: { low: 0.4, high: 0.6 },
              n: 96,
            },
          ]}
        />
      </>,
    );
    const rows = screen.getAllByTestId('revealed-trait');
    expect(rows[0]?.textContent).toMatch(/proud.*990.*1,040.*1,020/);
    expect(screen.getByTestId('revealed-share-student').textContent).toMatch(/60\.0% \[45\.0–75\.0%\] of 36/);
    expect(screen.getByTestId('revealed-share-teacher').textContent).toBe('—');
    expect(screen.getByTestId('evaluation-stage').textContent).toMatch(
      /dpo.*0\.100 \[0\.050–0\.150\].*50\.0% \[40\.0–60\.0%\] of 96/,
    );
  });
});

describe('the Personas page’s draft panel', () => {
  it('drafts with a model and opens the validated draft in the editor, unsaved', async () => {
    handle('personas:draft', (p) => ({
      source: `meta:\n  name: ${p.name}\n`,
      issues: [],
      raw: '...',
      model: 'local default',
      notes: ['a small model drafts poorly: edit the draft before saving it'],
    }));
    render(<DraftConstitutionPanel />);
    const run = screen.getByTestId('persona-draft-run');
    expect((run as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Grace Hopper' } });
    fireEvent.change(screen.getByLabelText('A few lines about them'), {
      target: { value: 'Compiler pioneer.' },
    });
    fireEvent.click(run);
    await settle();
    expect(callsTo('personas:draft')).toEqual([
      { name: 'Grace Hopper', about: 'Compiler pioneer.', provider: 'local' },
    ]);
    expect(usePersonasStore.getState().draft).toBe('meta:\n  name: Grace Hopper\n');
    expect(usePersonasStore.getState().dirty).toBe(true);
    expect(screen.getByTestId('persona-draft-notes').textContent).toMatch(/It validates/);
  });

  it('shows which stage a draft is in while the model works (issue 18 #10: 201 s of "Drafting…")', async () => {
    let finish: (draft: ConstitutionDraft) => void = () => undefined;
    handle(
      'personas:draft',
      () =>
        new Promise<ConstitutionDraft>((resolve) => {
          finish = resolve;
        }),
    );
    render(<DraftConstitutionPanel />);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Grace Hopper' } });
    fireEvent.change(screen.getByLabelText('A few lines about them'), {
      target: { value: 'Compiler pioneer.' },
    });
    fireEvent.click(screen.getByTestId('persona-draft-run'));
    await settle();
    expect(screen.getByTestId('persona-draft-progress').textContent).toContain('starting the model');
    const receive = useCharacterStore.getState().receiveDraftProgress;
    act(() => receive({ name: 'Someone else', done: 1, total: 2, fraction: 0.5, message: 'not ours' }));
    act(() =>
      receive({
        name: 'Grace Hopper',
        done: 1,
        total: 2,
        fraction: 0.5,
        message: 'one question per section',
      }),
    );
    const progress = screen.getByTestId('persona-draft-progress').textContent ?? '';
    expect(progress).toContain('50% stage 2 of 2: one question per section');
    expect(progress).not.toContain('not ours');
    await act(async () => {
      finish({ source: 'meta:\n  name: Grace Hopper\n', issues: [], raw: '', model: 'local', notes: [] });
      await Promise.resolve();
    });
    await settle();
    expect(screen.queryByTestId('persona-draft-progress')).toBeNull();
  });
});
