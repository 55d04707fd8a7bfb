// @vitest-environment jsdom
/**
 * The Checkpoints page's export: "Merged model too" asks for the merged model, and a folder that
 * is not empty (the bridge's 409 conflict) asks the user before anything is overwritten.
 */
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CheckpointListRow } from '../../src-shared/contract';
import { callsTo, fakeApi, handle, resetFakeApi } from './fakeApi';
import { configFixture } from './fixtures';

vi.mock('../../src-renderer/src/api', () => ({ api: fakeApi }));

const { CheckpointsPage } = await import('../../src-renderer/src/pages/CheckpointsPage');
const { resetCheckpointsStore, useCheckpointsStore } =
  await import('../../src-renderer/src/stores/checkpoints');

const row: CheckpointListRow = {
  id: 'ckpt-20',
  runId: 'run-1',
  step: 20,
  path: '/runs/run-1/checkpoints/step-20',
  createdAt: '2026-11-01T10:00:00.000Z',
  state: 'candidate',
  current: false,
  active: false,
  metrics: {},
  lineage: { personaId: 'beethoven', personaVersion: 1, dataHash: 'abc', config: configFixture },
};

function conflict(dir: string): Error {
  return Object.assign(new Error(`${dir} is not empty`), {
    code: 'conflict',
    detail: { param: 'outputDir', dir },
  });
}

beforeEach(() => {
  resetFakeApi();
  resetCheckpointsStore();
  handle('checkpoints:list', () => [row]);
});
afterEach(cleanup);

describe('checkpoint export', () => {
  it('asks before overwriting a folder that is not empty, then exports with overwrite', async () => {
    let first = true;
    handle('checkpoints:export', () => {
      if (first) {
        first = false;
        throw conflict('/exports/ckpt-20');
      }
      return {
        dir: '/exports/ckpt-20',
        files: ['/exports/ckpt-20/adapter_config.json'],
        mergedDir: null,
        modelfile: null,
      };
    });
    render(<CheckpointsPage />);
    fireEvent.click(await screen.findByTestId('checkpoint-export'));
    const confirm = await screen.findByTestId('checkpoints-overwrite-confirm');
    expect(confirm.textContent).toContain('/exports/ckpt-20');
    expect(screen.queryByTestId('checkpoints-error')).toBeNull();
    fireEvent.click(screen.getByTestId('checkpoints-overwrite'));
    await waitFor(() =>
      expect(screen.getByTestId('checkpoints-exported').textContent).toContain('adapter_config.json'),
    );
    expect(callsTo('checkpoints:export')).toEqual([{ id: 'ckpt-20' }, { id: 'ckpt-20', overwrite: true }]);
    expect(useCheckpointsStore.getState().overwritePending).toBeNull();
  });

  it('sends merged when "Merged model too" is ticked, and cancel drops a pending overwrite', async () => {
    handle('checkpoints:export', () => {
      throw conflict('/x');
    });
    render(<CheckpointsPage />);
    fireEvent.click(await screen.findByTestId('checkpoints-merged'));
    fireEvent.click(await screen.findByTestId('checkpoint-export'));
    await screen.findByTestId('checkpoints-overwrite-confirm');
    expect(callsTo('checkpoints:export')).toEqual([{ id: 'ckpt-20', merged: true }]);
    fireEvent.click(screen.getByText('Cancel'));
    expect(screen.queryByTestId('checkpoints-overwrite-confirm')).toBeNull();
  });

  it('says where an export goes by default: <data folder>/exports/<checkpoint id>, as main writes it (registry/export.ts)', async () => {
    render(<CheckpointsPage />);
    const field = (await screen.findByLabelText('Export folder (optional)')) as HTMLInputElement;
    // issue 18 #10: it read "default: the run's export folder" while files went to <home>/exports/<ckpt>
    expect(field.placeholder).toBe('default: <data folder>/exports/<checkpoint id>');
  });
});
