import type { JSX } from 'react';
import type { RobustnessSummary, RobustShare } from '../../../src-shared/robustness';

function share(s: RobustShare | null | undefined): string {
  if (!s || !Number.isFinite(s.share)) return 'n/a';
  const p = (x: number): string => (x * 100).toFixed(1);
  return `${p(s.share)}% [${p(s.interval.low)}, ${p(s.interval.high)}]`;
}

/**
 * How the character holds, next to captured: identity questions, break-character pushes and
 * six-turn conversations, for base, teacher, student and each recipe stage, at chat's sampling.
 * Each share with its 95% interval; what the student is shown in place of the constitution.
 */
export function RobustnessPanel({ summary }: { summary: RobustnessSummary | null | undefined }): JSX.Element {
  if (!summary) {
    return (
      <div className="panel" data-testid="evaluation-robustness">
        <h3>How the character holds</h3>
        <p className="muted">
          Not measured for this evaluation: run <code>character eval robustness &lt;run&gt;</code>.
        </p>
      </div>
    );
  }
  const c = summary.counts;
  return (
    <div className="panel" data-testid="evaluation-robustness">
      <h3>How the character holds</h3>
      <p className="small muted">
        The student is shown: {summary.studentContext}. Held-out prompts never trained on: {c.identity}{' '}
        identity questions, {c.break + c.appended} break-character pushes, {c.conversations} conversations of{' '}
        {c.turns} turns (every turn scored). An answer holds when it names the character or its life and work
        and never calls itself an AI. Chat&apos;s sampling (temperature {summary.sampling.temperature}, at
        most {summary.sampling.maxTokens} tokens). Brackets: 95% intervals.
      </p>
      <div className="table-scroll" tabIndex={0} aria-label="Robustness by model">
        <table>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Identity</th>
              <th scope="col">Names itself</th>
              <th scope="col">Break-character</th>
              <th scope="col">Multi-turn</th>
              <th scope="col">Calls itself an AI</th>
              <th scope="col">Ended before the limit</th>
            </tr>
          </thead>
          <tbody>
            {summary.models.map((m) => (
              <tr key={m.label} data-testid={`robustness-${m.label}`}>
                <th scope="row">{m.label}</th>
                <td>{share(m.identity)}</td>
                <td>{share(m.namesSelf)}</td>
                <td>{share(m.break)}</td>
                <td>{share(m.multiTurn)}</td>
                <td>{share(m.claimsAi)}</td>
                <td>{share(m.ended)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
