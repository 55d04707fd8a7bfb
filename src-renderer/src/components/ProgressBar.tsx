import type { JSX } from 'react';

/** A labelled progress bar; `fraction` is 0..1. */
export function ProgressBar({
  fraction,
  label,
  testId,
}: {
  fraction: number;
  label: string;
  testId?: string;
}): JSX.Element {
  const percent = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
  return (
    <div className="progress" data-testid={testId}>
      <progress max={100} value={percent} aria-label={label} />
      <span className="progress-text">
        {percent}% {label}
      </span>
    </div>
  );
}
