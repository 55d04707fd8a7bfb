/**
 * What the handlers are built from: the opened studio (built by openStudio, which owns every
 * service) plus a few facts about the process hosting them.
 */
import type { Studio } from '../studio/studio';

/** The opened studio (less close, which belongs to whoever opened it) plus the host's facts. */
export interface HandlerServices extends Omit<Studio, 'close'> {
  app: { version: string; electron: boolean };
}
