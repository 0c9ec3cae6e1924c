/**
 * The service's cloud-to-device sender (our receiver on `/messages/devicebound`, digest §8): each
 * message names its device in `to`, is queued through core's C2D queue and is accepted only once
 * it is committed; a refused one is rejected with the condition the service SDK decodes
 * (queue full → `amqp:resource-limit-exceeded` → DeviceMaximumQueueDepthExceededError, unknown
 * device → `amqp:not-found` → DeviceNotFoundError). Whether the connection may send at all
 * (a ServiceConnect claim) is checked at attach, in server.ts.
 * @module
 */

import { isHubError } from '@tributary/core';
import type { EventContext } from 'rhea';
import type { AmqpAdapterDeps } from '../deps.ts';
import { amqpErrorFor } from '../errors.ts';
import { c2dSendFromAmqp } from '../message-mapping.ts';

export async function handleServiceC2dSend(context: EventContext, deps: AmqpAdapterDeps): Promise<void> {
  const delivery = context.delivery!;
  try {
    const { deviceId, input } = c2dSendFromAmqp(context.message!);
    await deps.c2d.send(deviceId, input);
    delivery.accept();
  } catch (error) {
    if (!isHubError(error)) throw error;
    delivery.reject(amqpErrorFor(error));
  }
}
