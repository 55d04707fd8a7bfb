/**
 * What the handlers are built from: the opened studio's services plus a few facts about the
 * process hosting them. The domain services that keep state (persona library, chat) are built
 * once here and shared by the handler groups.
 */
import type { Studio } from '../pipeline/studio';

/** The opened studio (less close, which belongs to whoever opened it) plus the host's facts. */
export interface HandlerServices extends Omit<Studio, 'close'> {
  app: { version: string; electron: boolean };
}
