import { describeModel } from '../core/model-spec';
import type { HandlerServices } from './context';
import type { Handlers } from './types';

export function appHandlers(s: HandlerServices): Pick<Handlers, 'app:info'> {
  return {
    'app:info': async () => {
      const teacher = describeModel(s.settings.get('teacherModel'));
      const student = describeModel(s.settings.get('studentModel'));
      return {
        version: s.app.version,
        dataDir: s.dataDir,
        engine: teacher === student ? student : `teacher ${teacher}, student ${student}`,
        electron: s.app.electron,
      };
    },
  };
}
