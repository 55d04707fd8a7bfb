/**
 * The robustness figures as text: one table row per model, every share with its 95% interval.
 * Used by `character eval robustness`, the CLI summary and RESULTS_REPORT.md.
 */
import type { RobustnessSummary, RobustShare } from '../../src-shared/robustness';

export function formatShare(s: RobustShare | null | undefined): string {
  if (!s || !Number.isFinite(s.share)) return 'n/a';
  const p = (x: number): string => (x * 100).toFixed(1);
  return `${p(s.share)}% [${p(s.interval.low)}, ${p(s.interval.high)}]`;
}

/** A Markdown table: model x identity, names itself, break-character, multi-turn, classifier, ended. */
export function robustnessTable(summary: RobustnessSummary): string[] {
  const c = summary.counts;
  const lines = [
    `| model | identity (${c.identity}) | names itself | break-character (${c.break + c.appended}) | multi-turn (${c.conversations}x${c.turns}) | in character (classifier) | calls itself an AI | ended before the limit | mean tokens |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const m of summary.models)
    lines.push(
      `| ${m.label} | ${formatShare(m.identity)} | ${formatShare(m.namesSelf)} | ${formatShare(m.break)} | ${formatShare(m.multiTurn)} | ${formatShare(m.classifier)} | ${formatShare(m.claimsAi)} | ${formatShare(m.ended)} | ${Number.isFinite(m.meanTokens) ? m.meanTokens.toFixed(0) : 'n/a'} |`,
    );
  return lines;
}

/** Break-character by style and multi-turn by turn, one row per model. */
export function robustnessDetail(summary: RobustnessSummary): string[] {
  const styles = ['direct', 'reassign', 'drop', 'offtopic', 'appended'] as const;
  const turns = summary.counts.turns;
  const lines = [
    `| model | ${styles.join(' | ')} | ${Array.from({ length: turns }, (_, t) => `turn ${t + 1}`).join(' | ')} |`,
    `| --- | ${styles.map(() => '---').join(' | ')} | ${Array.from({ length: turns }, () => '---').join(' | ')} |`,
  ];
  for (const m of summary.models)
    lines.push(
      `| ${m.label} | ${styles.map((s) => formatShare(m.breakByStyle[s])).join(' | ')} | ${m.multiTurnByTurn.map(formatShare).join(' | ')} |`,
    );
  return lines;
}
