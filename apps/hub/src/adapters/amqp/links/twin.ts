/**
 * Device twins over AMQP (digest §5.3): the device's twin sender carries requests annotated with
 * `operation` (GET, PATCH reported, PUT/DELETE the desired-notification subscription) and a
 * correlation id; answers and desired patches go out on our sender to the device's twin receiver.
 * @module
 */

import { isHubError, type JsonValue } from '@tributary/core';
import type { EventContext, Sender } from 'rhea';
import type { DeviceBinding } from '../connection-state.ts';
import { twinErrorResponse } from '../errors.ts';
import { twinRequestFromAmqp, twinResponseToAmqp, type TwinRequest } from '../message-mapping.ts';

const DESIRED_NOTIFICATIONS = '/notifications/twin/properties/desired';

/** The device attached its twin receiver: answers and desired patches go there. */
export function openTwinSender(binding: DeviceBinding, sender: Sender): void {
  binding.twinSender = sender;
}

async function answer(request: TwinRequest, binding: DeviceBinding): Promise<{ status: number; version?: number; body?: JsonValue }> {
  const { session } = binding;
  switch (request.operation) {
    case 'GET':
      return { status: 200, body: await session.getTwin() };
    case 'PATCH':
      return { status: 204, version: await session.patchReported(request.body ?? {}) };
    case 'PUT':
      if (request.resource === DESIRED_NOTIFICATIONS) session.enableDesired();
      return { status: 200 };
    case 'DELETE':
      if (request.resource === DESIRED_NOTIFICATIONS) session.disableDesired();
      return { status: 200 };
  }
}

/** One twin request from the device; the answer (or a JSON error body) goes back correlated. */
export async function handleTwinRequest(context: EventContext, binding: DeviceBinding): Promise<void> {
  context.delivery?.accept();
  const request = twinRequestFromAmqp(context.message!);
  let response: { status: number; version?: number; body?: JsonValue };
  try {
    response = await answer(request, binding);
  } catch (error) {
    if (!isHubError(error)) throw error;
    response = twinErrorResponse(error);
  }
  binding.twinSender?.send(twinResponseToAmqp({ correlationId: request.rawCorrelationId, ...response }));
}
