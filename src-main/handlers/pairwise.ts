import { PAIRWISE_CHOICES, type PairwiseChoice } from '../../src-shared/contract';
import { runPaths } from '../core/paths';
import { refreshReviewSection } from '../reports';
import {
  choosePair,
  createPairwiseSheet,
  exportPairwise,
  getPairwiseSheet,
  listPairwiseSheets,
  pairwiseSummary,
  PAIRWISE_MAX_PAIRS,
} from '../review';
import type { HandlerServices } from './context';
import { requireBoolean, requireInt, requireOneOf, requireString } from './params';
import type { Handlers } from './types';

type PairwiseChannels =
  | 'pairwise:create'
  | 'pairwise:get'
  | 'pairwise:list'
  | 'pairwise:choose'
  | 'pairwise:summary'
  | 'pairwise:export';

export function pairwiseHandlers(s: HandlerServices): Pick<Handlers, PairwiseChannels> {
  return {
    'pairwise:create': async (params) => {
      const runId = requireString(params, 'runId');
      s.store.runs.require(runId);
      const given = (params as { pairs?: unknown } | null)?.pairs;
      const pairs =
        given === undefined || given === null
          ? undefined
          : requireInt(params, 'pairs', 1, PAIRWISE_MAX_PAIRS);
      return createPairwiseSheet(s.store, { runId, pairs });
    },
    'pairwise:get': async (params) => getPairwiseSheet(s.store, requireString(params, 'sheetId')),
    'pairwise:list': async (params) => {
      const runId = requireString(params, 'runId');
      s.store.runs.require(runId);
      return listPairwiseSheets(s.store, runId);
    },
    'pairwise:choose': async (params) => {
      const raw = (params as { choice?: unknown } | null)?.choice;
      const choice: PairwiseChoice | null =
        raw === null ? null : requireOneOf(params, 'choice', PAIRWISE_CHOICES);
      return choosePair(s.store, requireInt(params, 'itemId', 1), choice);
    },
    'pairwise:summary': async (params) =>
      pairwiseSummary(s.store, requireString(params, 'sheetId'), {
        unblind: requireBoolean(params, 'unblind'),
      }),
    // Beside manual_review.csv in the run folder; the report's review section follows the store.
    'pairwise:export': async (params) => {
      const sheetId = requireString(params, 'sheetId');
      const sheet = getPairwiseSheet(s.store, sheetId);
      const paths = runPaths(s.dataDir, sheet.runId);
      const { csvPath } = exportPairwise(s.store, sheetId, paths.dir);
      return { csvPath, reportPath: refreshReviewSection(s.store, sheet.runId, paths.resultsReport) };
    },
  };
}
