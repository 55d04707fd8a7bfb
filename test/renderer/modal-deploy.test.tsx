// @vitest-environment jsdom
/**
 * The Checkpoints page's Modal panel: the GPU picker shows each GPU's price per hour and where the
 * prices came from, and "Write Modal app" asks for the picked checkpoint on the picked GPU and
 * shows the commands that deploy it. The main side is the fake transport (nothing reaches Modal).
 */
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CheckpointRow } from '../../src-shared/contract';
import { callsTo, fakeApi, handle, resetFakeApi } from './fakeApi';
import { configFixture } from './fixtures';

vi.mock('../../src-renderer/src/api', () => ({ api: fakeApi }));

const { CheckpointsPage } = await import('../../src-renderer/src/pages/CheckpointsPage');
const { resetCheckpointsStore } = await import('../../src-renderer/src/stores/checkpoints');

const row = (id: string, step: number): CheckpointRow => ({
  id,
  runId: 'run-1',
  step,
  path: `/runs/run-1/checkpoints/${id}`,
  createdAt: '2026-11-01T10:00:00.000Z',
  state: 'candidate',
  metrics: {},
  lineage: { personaId: 'beethoven', personaVersion: 1, dataHash: 'abc', config: configFixture },
});

beforeEach(() => {
  resetFakeApi();
  resetCheckpointsStore();
  handle('checkpoints:list', () => [
    { ...row('ckpt-20', 20), current: true, active: true },
    { ...row('ckpt-10', 10), current: false, active: false },
  ]);
});
afterEach(cleanup);

describe('Deploy to Modal', () => {
  it('offers the GPUs with their cost per hour and writes the app for the picked checkpoint and GPU', async () => {
    handle('checkpoints:deployModal', (p) => ({
      dir: `/exports/${p.id}-modal`,
      appFile: `/exports/${p.id}-modal/modal_app.py`,
      gpu: p.gpu,
      modalGpu: p.gpu === 'A100' ? 'A100-80GB' : p.gpu,
      servedModelName: 'beethoven',
      commands: ['modal secret create x VLLM_API_KEY=<a key of your choosing>', 'modal deploy modal_app.py'],
      usdPerHour: 2.5,
      priceNote: 'n',
    }));
    render(<CheckpointsPage />);
    const picker = (await screen.findByTestId('modal-gpu')) as HTMLSelectElement;
    expect(Array.from(picker.options).map((o) => o.value)).toEqual(['T4', 'L4', 'A10G', 'A100', 'H100']);
    expect(picker.value).toBe('L4');
    expect(screen.getByTestId('modal-cost').textContent).toMatch(/\$0\.80 per hour.*modal\.com\/pricing/);
    fireEvent.change(picker, { target: { value: 'A100' } });
    expect(screen.getByTestId('modal-cost').textContent).toContain('$2.50 per hour');
    fireEvent.change(screen.getByLabelText('Checkpoint'), { target: { value: 'ckpt-10' } });
    fireEvent.click(screen.getByTestId('modal-deploy-button'));
    const result = await screen.findByTestId('modal-deploy-result');
    expect(callsTo('checkpoints:deployModal')).toEqual([{ id: 'ckpt-10', gpu: 'A100' }]);
    expect(result.textContent).toContain('/exports/ckpt-10-modal/modal_app.py');
    expect(result.textContent).toContain('modal deploy modal_app.py');
    expect(result.textContent).toContain('A100-80GB');
  });

  it('shows the main side’s error where the panel is', async () => {
    handle('checkpoints:deployModal', () => {
      throw Object.assign(new Error('no merged model'), { code: 'invalid_params' });
    });
    render(<CheckpointsPage />);
    fireEvent.click(await screen.findByTestId('modal-deploy-button'));
    expect((await screen.findByTestId('modal-deploy-error')).textContent).toContain('no merged model');
  });
});
