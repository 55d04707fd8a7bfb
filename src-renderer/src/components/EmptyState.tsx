import type { JSX, ReactNode } from 'react';

/** What a first-time user sees instead of an empty table: what is missing and what to do next. */
export function EmptyState({
  title,
  children,
  testId,
}: {
  title: string;
  children?: ReactNode;
  testId?: string;
}): JSX.Element {
  return (
    <div className="empty" data-testid={testId ?? 'empty-state'}>
      <h3>{title}</h3>
      {children}
    </div>
  );
}
