import type { JSX } from 'react';
import type { DistillationMetrics } from '../../../src-shared/contract';
import { formatNumber, formatNumberInterval } from './format';

/**
 * How close the student came to the teacher, per token: the result a distillation is judged by.
 * Captured = 1 − KL(student) / KL(base), with its 95% interval.
 */
export function DistillationPanel({ metrics }: { metrics: DistillationMetrics | null }): JSX.Element {
  if (!metrics) {
    return (
      <div className="panel" data-testid="evaluation-distillation">
        <h3>Distillation quality</h3>
        <p className="muted">
          Not measured: per-token KL needs the teacher’s token distributions, which only a local teacher gives
          (or this evaluation predates it).
        </p>
      </div>
    );
  }
  const d = metrics;
  return (
    <div className="panel" data-testid="evaluation-distillation">
      <h3>
        Distillation quality: captured{' '}
        <strong data-testid="captured">
          {formatNumber(d.captured, 3)}
          {formatNumberInterval(d.intervals.captured)}
        </strong>
      </h3>
      <p className="small muted">
        Per answer token on the teacher’s own answers to {d.answers} held-out questions ({d.tokens} tokens):
        KL(teacher with the constitution ‖ model without it), in nats. Captured = 1 − KL(student) / KL(base):
        1 means the student is the teacher, 0 no closer than the untrained base. Brackets: 95% intervals.
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">Per token</th>
            <th scope="col">base</th>
            <th scope="col">student</th>
            <th scope="col">teacher</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">KL(teacher ‖ model)</th>
            <td>
              {formatNumber(d.klBase, 3)}
              {formatNumberInterval(d.intervals.klBase)}
            </td>
            <td>
              {formatNumber(d.klStudent, 3)}
              {formatNumberInterval(d.intervals.klStudent)}
            </td>
            <td>0</td>
          </tr>
          <tr>
            <th scope="row">NLL of the teacher’s answers</th>
            <td>{formatNumber(d.nll.base, 3)}</td>
            <td>{formatNumber(d.nll.student, 3)}</td>
            <td>{formatNumber(d.nll.teacher, 3)}</td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}
