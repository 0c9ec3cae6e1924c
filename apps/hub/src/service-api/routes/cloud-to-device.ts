/**
 * The service side of cloud-to-device messaging over REST, all under ServiceConnect:
 * - `POST /devices/{id}/messages/deviceBound` (any letter case): the raw body is the message,
 *   `iothub-*` headers its properties (see `c2d-json.ts`); 204 with the message id in
 *   `iothub-messageid`. The service SDK sends over AMQP (§8); this is for the console and curl.
 * - `GET /devices/{id}/commands`: the queue, oldest first, without locking (the console's view).
 *   It is not on `…/messages/deviceBound`, where GET with device credentials is the HTTPS device
 *   API's receive (§6).
 * - `DELETE /devices/{id}/commands`: purge (§7.1), `{totalMessagesPurged, deviceId, moduleId}`.
 * No catch-all on `…/messages/deviceBound`: the device API serves other methods there.
 * @module
 */

import type { Context } from 'hono';
import { Hono } from 'hono';
import {
  type CloudToDeviceQueue,
  MAX_C2D_MESSAGE_BYTES,
  messageTooLarge,
  
  validateDeviceId,
} from '@tributary/core';
import { requirePermission, type ServiceAuthenticator } from '../auth.ts';
import { readBodyBytes } from '../body.ts';
import type { ServiceApiEnv } from '../context.ts';
import { c2dInputFromRequest, c2dMessageJson, purgeResultJson } from '../representation/c2d-json.ts';
import { allowOnly, jsonResponse } from '../respond.ts';

export interface CloudToDeviceRouteDeps {
  queue: CloudToDeviceQueue;
  authenticator: ServiceAuthenticator;
}

/** `deviceBound` in any letter case: the docs write `deviceBound`, the Node SDK sends `devicebound`. */
const DEVICE_BOUND = ':endpoint{[Dd][Ee][Vv][Ii][Cc][Ee][Bb][Oo][Uu][Nn][Dd]}';

/** The raw body, refused with MessageTooLarge as soon as it passes `maxBytes` (chunked bodies carry no length). */
export function cloudToDeviceRoutes({ queue, authenticator }: CloudToDeviceRouteDeps) {
  const serviceConnect = requirePermission(authenticator, 'ServiceConnect');
  const deviceIdOf = (c: Context) => validateDeviceId(c.req.param('deviceId'));

  return new Hono<ServiceApiEnv>({ strict: false })
    .post(`/:deviceId/messages/${DEVICE_BOUND}`, serviceConnect, async (c) => {
      const deviceId = deviceIdOf(c);
      const body = await readBodyBytes(c, MAX_C2D_MESSAGE_BYTES, () => messageTooLarge(MAX_C2D_MESSAGE_BYTES));
      const message = await queue.send(deviceId, c2dInputFromRequest(c.req.raw.headers, body));
      return c.body(null, 204, { 'iothub-messageid': message.messageId });
    })
    .get('/:deviceId/commands', serviceConnect, async (c) => {
      const messages = await queue.peek(deviceIdOf(c));
      return jsonResponse(c, messages.map(c2dMessageJson));
    })
    .delete('/:deviceId/commands', serviceConnect, async (c) => {
      const deviceId = deviceIdOf(c);
      return jsonResponse(c, purgeResultJson(deviceId, await queue.purge(deviceId)));
    })
    .all('/:deviceId/commands', allowOnly('GET', 'DELETE'));
}
