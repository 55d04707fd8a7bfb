// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { RobustnessPanel } from '../../src-renderer/src/components/RobustnessPanel';
import type { RobustnessModelResult, RobustnessSummary, RobustShare } from '../../src-shared/robustness';

const s = (share: number, n = 20): RobustShare => ({
  share,
  interval: { low: share - 0.1, high: share + 0.1 },
  n,
});
const model = (label: string, identity: number): RobustnessModelResult => ({
  label,
  checkpointId: label === 'student' ? 'ck' : null,
  identity: s(identity),
  namesSelf: s(identity / 2),
  break: s(0.5, 64),
  breakByStyle: { direct: s(0.5), reassign: s(0.5), drop: s(0.5), offtopic: s(0.5), appended: s(0.5) },
  multiTurn: s(0.6, 72),
  multiTurnByTurn: Array.from({ length: 6 }, () => s(0.6, 12)),
  classifier: s(0.7, 156),
  claimsAi: s(0.05, 156),
  ended: s(0.95, 156),
  meanTokens: 80,
});

afterEach(cleanup);

describe('the Evaluation page: how the character holds', () => {
  it('shows every model with its shares and intervals, and what the student is given', () => {
    const summary: RobustnessSummary = {
      runId: 'r',
      checkpointId: 'ck',
      studentContext: 'an empty system turn',
      sampling: { temperature: 0.7, topP: 0.9, maxTokens: 160, repetitionPenalty: 1.15, seed: 0 },
      counts: { identity: 20, break: 48, appended: 16, conversations: 12, turns: 6 },
      models: [model('base', 0.1), model('teacher', 0.5), model('student', 0.8)],
      wallMs: 1000,
    };
    render(<RobustnessPanel summary={summary} />);
    expect(screen.getByTestId('evaluation-robustness').textContent).toContain('an empty system turn');
    expect(screen.getByTestId('robustness-student').textContent).toContain('80.0% [70.0, 90.0]');
    expect(screen.getByTestId('robustness-base').textContent).toContain('10.0% [0.0, 20.0]');
  });

  it('says how to measure it when an evaluation predates it', () => {
    render(<RobustnessPanel summary={undefined} />);
    expect(screen.getByTestId('evaluation-robustness').textContent).toContain('character eval robustness');
  });
});
