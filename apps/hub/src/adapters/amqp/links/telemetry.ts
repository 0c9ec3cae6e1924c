/**
 * The device's telemetry sender (our receiver on `/devices/{d}[/modules/{m}]/messages/events`):
 * each message is accepted only once it is committed to the event stream; a refused one is
 * rejected with the condition the SDK decodes.
 * @module
 */

import { isHubError } from '@tributary/core';
import type { EventContext } from 'rhea';
import type { DeviceBinding } from '../connection-state.ts';
import { amqpErrorFor } from '../errors.ts';
import { telemetryFromAmqp } from '../message-mapping.ts';

export async function handleTelemetryMessage(context: EventContext, binding: DeviceBinding): Promise<void> {
  const delivery = context.delivery!;
  try {
    await binding.session.sendTelemetry(telemetryFromAmqp(context.message!));
    delivery.accept();
  } catch (error) {
    if (!isHubError(error)) throw error;
    delivery.reject(amqpErrorFor(error));
  }
}
