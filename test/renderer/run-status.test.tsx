// @vitest-environment jsdom
/** A run whose process died mid-step (kill -9) is `interrupted`: its step shows as not finished. */
import { describe, expect, it, vi } from 'vitest';
import { fakeApi } from './fakeApi';
import { runFixture } from './fixtures';

vi.mock('../../src-renderer/src/api', () => ({ api: fakeApi }));

const { stepState } = await import('../../src-renderer/src/stores/runs');

describe('an interrupted run', () => {
  it('shows the step its process died in as failed (to resume), the earlier ones done', () => {
    const run = runFixture({ step: 'train', status: 'interrupted' });
    expect(stepState(run, 'split')).toBe('done');
    expect(stepState(run, 'train')).toBe('failed');
    expect(stepState(run, 'evaluate')).toBe('todo');
  });
});
