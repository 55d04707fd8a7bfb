import { useEffect, useState, type JSX } from 'react';
import { api } from '../api';
import type { ApiResult } from '../../../src-shared/contract';

/** Version, engine and data folder at the foot of the navigation (what a bug report needs). */
export function AppInfo(): JSX.Element | null {
  const [info, setInfo] = useState<ApiResult<'app:info'> | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    api.invoke('app:info', undefined).then(
      (result) => live && setInfo(result),
      (error: unknown) => live && setFailed(error instanceof Error ? error.message : String(error)),
    );
    return () => {
      live = false;
    };
  }, []);
  if (failed) {
    return (
      <p className="app-info bad" role="alert" data-testid="app-info">
        Not connected: {failed}
      </p>
    );
  }
  if (!info) return null;
  return (
    <p className="app-info" data-testid="app-info" title={info.dataDir}>
      v{info.version} · {info.engine}
      {info.electron ? '' : ' · browser'}
    </p>
  );
}
