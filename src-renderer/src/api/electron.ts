import type { ApiChannel, ApiParams, ApiResult, StudioApi, StudioBridge } from '../../../src-shared/contract';
import { ApiError, toApiError } from './errors';

/** Wraps the preload's window.studio (replies as envelopes) into a StudioApi that throws ApiError. */
export function createElectronApi(bridge: StudioBridge): StudioApi {
  return {
    async invoke<C extends ApiChannel>(channel: C, params: ApiParams<C>): Promise<ApiResult<C>> {
      let reply;
      try {
        reply = await bridge.invoke(channel, params);
      } catch (error) {
        throw toApiError(error, 'transport');
      }
      if (reply.ok) return reply.result;
      throw new ApiError(reply.error);
    },
    on: (event, listener) => bridge.on(event, listener),
  };
}
