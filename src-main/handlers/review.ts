import { REVIEW_DIMENSIONS } from '../../src-shared/contract';
import { runPaths } from '../core/paths';
import { refreshReviewSection } from '../reports';
import {
  createReviewSheet,
  exportReview,
  getReviewSheet,
  listReviewSheets,
  noteItem,
  rateItem,
  reviewSummary,
} from '../review';
import type { HandlerServices } from './context';
import { requireBoolean, requireInt, requireOneOf, requireString } from './params';
import type { Handlers } from './types';

type ReviewChannels =
  | 'review:create'
  | 'review:get'
  | 'review:list'
  | 'review:rate'
  | 'review:note'
  | 'review:summary'
  | 'review:export';

export function reviewHandlers(s: HandlerServices): Pick<Handlers, ReviewChannels> {
  return {
    'review:create': async (params) => {
      const runId = requireString(params, 'runId');
      s.store.runs.require(runId);
      return createReviewSheet(s.store, { runId, blind: requireBoolean(params, 'blind') });
    },
    'review:get': async (params) => getReviewSheet(s.store, requireString(params, 'sheetId')),
    'review:list': async (params) => {
      const runId = requireString(params, 'runId');
      s.store.runs.require(runId);
      return listReviewSheets(s.store, runId);
    },
    'review:rate': async (params) =>
      rateItem(
        s.store,
        requireInt(params, 'itemId', 1),
        requireOneOf(params, 'dimension', REVIEW_DIMENSIONS),
        requireInt(params, 'value', 1, 5),
      ),
    'review:note': async (params) =>
      noteItem(s.store, requireInt(params, 'itemId', 1), requireString(params, 'note', { allowEmpty: true })),
    'review:summary': async (params) =>
      reviewSummary(s.store, requireString(params, 'sheetId'), {
        unblind: requireBoolean(params, 'unblind'),
      }),
    // Next to the run's other reports: <run>/manual_review.csv and manual_review.txt (or _<sheet> for a second sheet).
    'review:export': async (params) => {
      const sheetId = requireString(params, 'sheetId');
      const sheet = getReviewSheet(s.store, sheetId);
      const paths = runPaths(s.dataDir, sheet.runId);
      const written = exportReview(s.store, sheetId, paths.dir);
      // The report was written before any review: bring its review section up to date.
      refreshReviewSection(s.store, sheet.runId, paths.resultsReport);
      return written;
    },
  };
}
