import type { JSX } from 'react';
import type { ApiErrorPayload } from '../../../src-shared/contract';

/** An error shown where it happened: the main side's message, with its code for bug reports. */
export function ErrorNotice({
  error,
  testId,
}: {
  error: ApiErrorPayload | null;
  testId?: string;
}): JSX.Element | null {
  if (!error) return null;
  return (
    <p className="error" role="alert" data-testid={testId ?? 'error'}>
      {error.message} <span className="error-code">({error.code})</span>
    </p>
  );
}
