/**
 * The HTTPS device API (azure-wire-protocol.md §6) as a Hono app with absolute paths, mounted by
 * the composition root before the service routes. Each request authenticates on its own
 * (`Authorization: SharedAccessSignature …` for the device the path names) and works through a
 * request-scoped DeviceSession, so telemetry is answered only after commit and settlement follows
 * the same rules as MQTT and AMQP:
 * - `POST /devices/{id}/messages/events`: one event (raw body, properties in headers) or a batch
 *   (`application/vnd.microsoft.iothub.json`), 204 once committed;
 * - `GET /devices/{id}/messages/devicebound`: the next C2D message, locked (200 with `ETag`), or 204;
 * - `DELETE …/devicebound/{lockToken}` completes, with `?reject` rejects; `POST …/{lockToken}/abandon`.
 * Paths are matched in lower case: `normalizeDeviceApiPath` (path-case.ts) runs before routing.
 * Errors go through the service API's one REST mapper. It owns no C2D or telemetry rule itself.
 * @module
 */

import type { Context } from 'hono';
import { Hono } from 'hono';
import {
  type AuthenticatedDevice,
  argumentInvalid,
  type CloudToDeviceQueue,
  type DeviceCredentials,
  deviceUnauthorized,
  type Logger,
  MAX_TELEMETRY_BYTES,
  messageTooLarge,
  preconditionFailed,
  type SessionRegistry,
} from '@tributary/core';
import { readBodyBytes } from '../../service-api/body.ts';
import { createErrorHandler } from '../../service-api/errors.ts';
import { allowOnly } from '../../service-api/respond.ts';
import { authenticateDeviceRequest } from './device-auth.ts';
import {
  c2dResponseHeaders,
  isBatchContentType,
  MAX_BATCH_REQUEST_BYTES,
  telemetryFromBatch,
  telemetryFromHeaders,
} from './message-headers.ts';

export interface HttpsDeviceDeps {
  authenticate(credentials: DeviceCredentials): Promise<AuthenticatedDevice>;
  sessions: SessionRegistry;
  c2d: CloudToDeviceQueue;
  logger: Logger;
}

const EVENTS = '/devices/:deviceId/messages/events';
const DEVICE_BOUND = '/devices/:deviceId/messages/devicebound';
const LOCKED_MESSAGE = `${DEVICE_BOUND}/:lockToken`;
const ABANDON = `${LOCKED_MESSAGE}/abandon`;

/**
 * How a DELETE settles: complete, or reject with the bare `reject` flag the Node SDK sends
 * (`?api-version=…&reject`) or `reject=true`; `reject=false` completes. Any case of the name.
 */
function deleteOutcome(url: string): 'complete' | 'reject' {
  let outcome: 'complete' | 'reject' = 'complete';
  for (const [name, value] of new URL(url).searchParams) {
    if (name.toLowerCase() !== 'reject') continue;
    const flag = value.toLowerCase();
    if (flag === '' || flag === 'true') outcome = 'reject';
    else if (flag !== 'false') throw argumentInvalid(`reject must be given bare, or as true or false, got '${value}'`);
  }
  return outcome;
}

/** `If-Match` must name the path's lock token when present (the SDK sends it unquoted; quotes are accepted). */
function checkIfMatch(c: Context, lockToken: string): void {
  const ifMatch = c.req.header('if-match');
  if (ifMatch === undefined || ifMatch === '' || ifMatch === '*') return;
  const value = ifMatch.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  if (value !== lockToken) throw preconditionFailed(`the message locked with '${lockToken}'`);
}

/**
 * @example
 * const app = new Hono();
 * app.route('/', httpsDeviceRoutes({ authenticate, sessions, c2d, logger })); // before the service routes
 */
export function httpsDeviceRoutes(deps: HttpsDeviceDeps) {
  const { sessions, c2d, logger } = deps;

  /** The authenticated device the path names; a token for anyone else is refused (401). */
  const deviceOf = async (c: Context): Promise<AuthenticatedDevice> => {
    const deviceId = c.req.param('deviceId')!;
    const identity = await authenticateDeviceRequest(c, { deviceId }, deps);
    if (identity.deviceId !== deviceId || identity.moduleId !== null) {
      throw deviceUnauthorized(`The credentials are not those of device '${deviceId}'`);
    }
    return identity;
  };

  const app = new Hono({ strict: false });
  app.onError(createErrorHandler(logger));

  app.post(EVENTS, async (c) => {
    const identity = await deviceOf(c);
    const session = sessions.transient(identity);
    if (isBatchContentType(c.req.header('content-type'))) {
      const text = new TextDecoder().decode(await readBodyBytes(c, MAX_BATCH_REQUEST_BYTES, () => messageTooLarge(MAX_TELEMETRY_BYTES)));
      // Every element is checked before the first is sent: a bad batch stores nothing.
      const messages = telemetryFromBatch(text, identity.deviceId);
      // Handed to the pipeline together, in order, so they commit in as few batches as possible.
      await Promise.all(messages.map((message) => session.sendTelemetry(message)));
      logger.debug('https_event_batch_sent', { deviceId: identity.deviceId, messages: messages.length });
    } else {
      const body = await readBodyBytes(c, MAX_TELEMETRY_BYTES, () => messageTooLarge(MAX_TELEMETRY_BYTES));
      await session.sendTelemetry(telemetryFromHeaders(c.req.raw.headers, body, identity.deviceId));
      logger.debug('https_event_sent', { deviceId: identity.deviceId, bytes: body.byteLength });
    }
    return c.body(null, 204);
  });
  app.all(EVENTS, allowOnly('POST'));

  // No catch-all here: the service API serves POST on the same path (a service's C2D send).
  app.get(DEVICE_BOUND, async (c) => {
    const identity = await deviceOf(c);
    const message = await c2d.receive(identity.deviceId);
    if (!message) return c.body(null, 204);
    logger.debug('https_c2d_message_received', { deviceId: identity.deviceId, messageId: message.messageId });
    return c.body(new Uint8Array(message.body), 200, c2dResponseHeaders(message));
  });

  app.delete(LOCKED_MESSAGE, async (c) => {
    const identity = await deviceOf(c);
    const lockToken = c.req.param('lockToken')!;
    const outcome = deleteOutcome(c.req.url);
    checkIfMatch(c, lockToken);
    await sessions.transient(identity).settleC2d(lockToken, outcome);
    return c.body(null, 204);
  });
  app.all(LOCKED_MESSAGE, allowOnly('DELETE'));

  app.post(ABANDON, async (c) => {
    const identity = await deviceOf(c);
    const lockToken = c.req.param('lockToken')!;
    checkIfMatch(c, lockToken);
    await sessions.transient(identity).settleC2d(lockToken, 'abandon');
    return c.body(null, 204);
  });
  app.all(ABANDON, allowOnly('POST'));

  return app;
}
