import { isAbsolute, resolve } from 'node:path';
import { IMPORT_FORMATS } from '../../src-shared/contract';
import { ConflictError, InvalidParamsError } from '../core/errors';
import { defaultImportPath, importSummary, listImports, writeImport } from '../datasets';
import { importData } from '../questions';
import type { ExampleQuery } from '../store';
import type { HandlerServices } from './context';
import { optionalString, requireBoolean, requireInt, requireOneOf, requireString } from './params';
import type { Handlers } from './types';

/** The largest page the data table may ask for (rows). */
const MAX_PAGE = 500;

type DataChannels = 'data:examples' | 'data:audit' | 'data:import' | 'data:imports';

function has(params: unknown, name: string): boolean {
  const v = (params as Record<string, unknown> | null)?.[name];
  return v !== undefined && v !== null;
}

export function dataHandlers(s: HandlerServices): Pick<Handlers, DataChannels> {
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
    // Reads a local file the user named and writes its pairs into <data folder>/imports only.
    'data:import': async (params) => {
      const path = requireString(params, 'path');
      if (!isAbsolute(path)) throw new InvalidParamsError('"path" must be an absolute path', 'path');
      const format = has(params, 'format') ? requireOneOf(params, 'format', IMPORT_FORMATS) : null;
      const character = optionalString(params, 'character')?.trim() || null;
      const force = has(params, 'force') ? requireBoolean(params, 'force') : false;
      const result = importData(resolve(path), { format, character });
      const out = defaultImportPath(s.dataDir, result, character);
      try {
        writeImport(result, out, { overwrite: force });
      } catch (error) {
        if (error instanceof ConflictError)
          throw new ConflictError(
            `${out} already exists (an earlier import): tick "replace" to import it again`,
            { path: out },
          );
        throw error;
      }
      return importSummary(result, out);
    },
    'data:imports': async () => listImports(s.dataDir),
  };
}
