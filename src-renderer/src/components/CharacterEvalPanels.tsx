import type { JSX } from 'react';
import type { RevealedPreferencesSummary, StageMetrics } from '../../../src-shared/character';
import type { ModelRole } from '../../../src-shared/contract';
import { formatNumber, formatNumberInterval, formatPercent, formatPercentInterval } from './format';

const ROLES: readonly { role: ModelRole; label: string }[] = [
  { role: 'base', label: 'base (before, no prompt)' },
  { role: 'teacher', label: 'teacher (with the constitution)' },
  { role: 'student', label: 'student (after, no prompt)' },
];

/**
 * Revealed preferences: Elo over traits from each model's own choices, base (before training),
 * teacher and student (after) side by side, constitution traits first.
 */
export function RevealedPreferencesPanel({
  summary,
}: {
  summary: RevealedPreferencesSummary | null | undefined;
}): JSX.Element | null {
  if (!summary) return null;
  const roles = ROLES.filter((r) => summary.elo[r.role]);
  return (
    <div className="panel" data-testid="evaluation-revealed">
      <h3>Revealed preferences</h3>
      <p className="small muted">
        Each model is put in a scene where it must act on one of two traits, from the constitution or from a
        fixed list of contrasting ones; every pair is asked in both orders. Elo over the traits from its
        choices (1000 = no preference). {summary.method}.
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">Trait</th>
            {roles.map((r) => (
              <th scope="col" key={r.role}>
                {r.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {summary.traits.map((t) => (
            <tr key={t.trait} data-testid="revealed-trait">
              <th scope="row">
                {t.trait} <span className="small muted">({t.source})</span>
              </th>
              {roles.map((r) => (
                <td key={r.role}>{formatNumber(summary.elo[r.role]?.[t.trait], 0)}</td>
              ))}
            </tr>
          ))}
          <tr>
            <th scope="row">constitution trait chosen over a contrasting one</th>
            {roles.map((r) => {
              const s = summary.constitutionShare[r.role];
              return (
                <td key={r.role} data-testid={`revealed-share-${r.role}`}>
                  {s ? `${formatPercent(s.value, 1)}${formatPercentInterval(s.interval)} of ${s.n}` : '—'}
                </td>
              );
            })}
          </tr>
        </tbody>
      </table>
    </div>
  );
}

/** The character recipe's stages, each measured like the student. */
export function StagesPanel({ stages }: { stages: readonly StageMetrics[] | undefined }): JSX.Element | null {
  if (!stages || stages.length === 0) return null;
  return (
    <div className="panel" data-testid="evaluation-stages">
      <h3>Stages of the character recipe</h3>
      <p className="small muted">
        Every adapter of the run on the same held-out questions: captured (per-token KL to the teacher closed,
        against the base) and the share of its answers the classifier judges in character, with 95% intervals.
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">Stage</th>
            <th scope="col">captured</th>
            <th scope="col">in character</th>
          </tr>
        </thead>
        <tbody>
          {stages.map((s) => (
            <tr key={s.checkpointId} data-testid="evaluation-stage">
              <th scope="row">
                {s.stage} <span className="small muted">({s.checkpointId})</span>
              </th>
              <td>
                {s.captured === null ? '—' : formatNumber(s.captured, 3)}
                {formatNumberInterval(s.capturedInterval)}
              </td>
              <td>
                {formatPercent(s.inCharacterShare, 1)}
                {formatPercentInterval(s.inCharacterInterval)} of {s.n}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
