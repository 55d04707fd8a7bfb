import { existsSync, readFileSync } from 'node:fs';
import { runPaths } from '../core/paths';
import type { HandlerServices } from './context';
import { requireString } from './params';
import type { Handlers } from './types';

export function evaluationHandlers(s: HandlerServices): Pick<Handlers, 'evaluation:get' | 'report:get'> {
  return {
    'evaluation:get': async (params) => {
      const runId = requireString(params, 'runId');
      s.store.runs.require(runId);
      const evaluation = s.store.evaluations.latest(runId);
      if (!evaluation) return null;
      return {
        summary: evaluation.summary,
        items: evaluation.items.map(({ extraScores: _extra, ...row }) => row),
        savings: s.store.savings.latest(runId),
      };
    },
    'report:get': async (params) => {
      const runId = requireString(params, 'runId');
      s.store.runs.require(runId);
      const path = runPaths(s.dataDir, runId).resultsReport;
      if (!existsSync(path)) return null;
      return { markdown: readFileSync(path, 'utf8'), path };
    },
  };
}
