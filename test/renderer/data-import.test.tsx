// @vitest-environment jsdom
/**
 * The Data page's import panel (issue #10 item 7): a file is imported through data:import and
 * what was read is shown (pairs, layout, skipped lines by number); a malformed file's error is
 * shown where it happened; a run is created on an imported file with runs:create's data.
 */
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ImportedFile, ImportSummary } from '../../src-shared/contract';
import { apiError, callsTo, fakeApi, handle, resetFakeApi } from './fakeApi';
import { runFixture } from './fixtures';

vi.mock('../../src-renderer/src/api', () => ({ api: fakeApi }));

const { DataPage } = await import('../../src-renderer/src/pages/DataPage');
const { resetDataStore } = await import('../../src-renderer/src/stores/data');
const { resetRunsStore } = await import('../../src-renderer/src/stores/runs');
const { resetPersonasStore } = await import('../../src-renderer/src/stores/personas');

const OUT = '/data/imports/sharegpt-convs.jsonl';
const summary: ImportSummary = {
  file: '/home/me/convs.jsonl',
  out: OUT,
  format: 'sharegpt',
  layout: 'ShareGPT (conversations)',
  encoding: 'UTF-16 LE (converted)',
  unit: 'line',
  records: 12,
  pairs: 10,
  skipped: [
    { at: 4, reason: 'not valid JSON: Unexpected end of JSON input' },
    { at: 9, reason: 'no user message answered by the assistant' },
  ],
  skippedCount: 2,
  systemPrompts: 3,
  withThinking: 1,
  meanQuestionWords: 6.5,
  meanAnswerWords: 21.25,
  preview: [{ question: 'Maestro?', answer: 'Ja!' }],
};
const imported: ImportedFile = {
  path: OUT,
  name: 'sharegpt-convs.jsonl',
  pairs: 10,
  bytes: 900,
  modifiedAt: '2026-12-01T03:00:00Z',
};

async function settle(): Promise<void> {
  await act(async () => {
    for (let i = 0; i < 5; i += 1) await Promise.resolve();
  });
}

beforeEach(() => {
  resetFakeApi();
  localStorage.clear();
  resetDataStore();
  resetRunsStore();
  resetPersonasStore();
  handle('personas:list', () => [
    {
      id: 'beethoven',
      name: 'Ludwig van Beethoven',
      version: 1,
      format: 'yaml',
      description: '',
      wordCount: 540,
      builtIn: true,
    },
  ]);
});

afterEach(cleanup);

describe('the import panel', () => {
  it('imports a file and shows what was read, skipped lines by number', async () => {
    let files: ImportedFile[] = [];
    handle('data:imports', () => files);
    handle('data:import', () => {
      files = [imported];
      return summary;
    });
    render(<DataPage />);
    await settle();
    fireEvent.change(screen.getByLabelText('File'), { target: { value: ' /home/me/convs.jsonl ' } });
    fireEvent.click(screen.getByTestId('import-submit'));
    await settle();
    expect(callsTo('data:import')).toEqual([{ path: '/home/me/convs.jsonl' }]);
    const result = screen.getByTestId('import-result').textContent ?? '';
    expect(result).toContain('10 pairs from 12 lines of ShareGPT (conversations)');
    expect(result).toContain('read as UTF-16 LE (converted)');
    expect(result).toContain('3 system prompts dropped');
    expect(result).toContain('reasoning cut out of 1 answers');
    const skipped = within(screen.getByTestId('import-skipped'));
    expect(skipped.getByText('line 4: not valid JSON: Unexpected end of JSON input')).toBeTruthy();
    expect(skipped.getByText('line 9: no user message answered by the assistant')).toBeTruthy();
    expect((screen.getByLabelText('Imported file') as HTMLSelectElement).value).toBe(OUT);
  });

  it('sends the layout, character and replace choices, and shows an error where it happened', async () => {
    handle('data:imports', () => []);
    handle('data:import', () => {
      throw apiError(
        'invalid_input',
        '/home/me/b.jsonl is not a Character-LLM file; it looks like chat JSONL (messages)',
      );
    });
    render(<DataPage />);
    await settle();
    fireEvent.change(screen.getByLabelText('File'), { target: { value: '/home/me/b.jsonl' } });
    fireEvent.change(screen.getByLabelText('Layout'), { target: { value: 'characterllm' } });
    fireEvent.change(screen.getByLabelText('Character'), { target: { value: 'Beethoven' } });
    fireEvent.click(screen.getByLabelText('replace an earlier import'));
    fireEvent.click(screen.getByTestId('import-submit'));
    await settle();
    expect(callsTo('data:import')).toEqual([
      { path: '/home/me/b.jsonl', format: 'characterllm', character: 'Beethoven', force: true },
    ]);
    expect(screen.getByTestId('import-error').textContent).toContain('it looks like chat JSONL (messages)');
  });

  it('creates a run on an imported file', async () => {
    handle('data:imports', () => [imported]);
    handle('runs:create', () => runFixture({ id: 'run-9' }));
    render(<DataPage />);
    await settle();
    const form = within(screen.getByTestId('import-new-run'));
    fireEvent.change(form.getByLabelText('Scale'), { target: { value: 'mini' } });
    fireEvent.change(form.getByLabelText('Use'), { target: { value: 'questions' } });
    fireEvent.click(form.getByText('Create run'));
    await settle();
    expect(callsTo('runs:create')).toEqual([
      { personaId: 'beethoven', scale: 'mini', data: { path: OUT, use: 'questions' } },
    ]);
  });
});
