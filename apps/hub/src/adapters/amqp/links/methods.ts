/**
 * Direct methods over AMQP (digest §5.3): requests go out on our sender to the device's methods
 * receiver; the device's methods sender carries the responses, matched by correlation id.
 * @module
 */

import type { EventContext, Sender } from 'rhea';
import type { DeviceBinding } from '../connection-state.ts';
import { methodResponseFromAmqp } from '../message-mapping.ts';

/** The device attached its methods receiver: it now listens for method calls. */
export function openMethodsSender(binding: DeviceBinding, sender: Sender): void {
  binding.methodsSender = sender;
  binding.session.enableMethods();
}

export async function handleMethodResponse(context: EventContext, binding: DeviceBinding): Promise<void> {
  context.delivery?.accept();
  const response = methodResponseFromAmqp(context.message!);
  binding.session.respondToMethod(response.requestId, response.status, response.payload);
}
