import type { ExampleQuery } from '../store';
import type { HandlerServices } from './context';
import { optionalString, requireInt, requireString } from './params';
import type { Handlers } from './types';

/** The largest page the data table may ask for (rows). */
const MAX_PAGE = 500;

export function dataHandlers(s: HandlerServices): Pick<Handlers, 'data:examples' | 'data:audit'> {
  return {
    'data:examples': async (params) => {
      const runId = requireString(params, 'runId');
      s.store.runs.require(runId);
      const filter: ExampleQuery = {};
      const category = optionalString(params, 'category');
      const flag = optionalString(params, 'flag');
      if (category) filter.category = category;
      if (flag) filter.flag = flag;
      const offset = requireInt(params, 'offset', 0);
      const limit = requireInt(params, 'limit', 1, MAX_PAGE);
      return {
        rows: s.store.examples.listByRun(runId, { ...filter, offset, limit }),
        total: s.store.examples.countByRun(runId, filter),
        categories: s.store.examples.categories(runId),
        flags: s.store.examples.flags(runId),
      };
    },
    'data:audit': async (params) => {
      const runId = requireString(params, 'runId');
      s.store.runs.require(runId);
      return s.store.audit.summary(runId);
    },
  };
}
