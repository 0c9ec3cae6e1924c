/**
 * Device and module twins: `GET/PATCH/PUT /twins/{id}` and `/twins/{id}/modules/{m}`. PATCH
 * merges tags and desired, PUT replaces them; If-Match names the twin etag (`*` or absent match
 * anything, 412 on a stale one). Every response carries the twin etag in `ETag`. The
 * `/twins/{id}/methods` paths are the direct-methods routes' business and are left unmatched.
 *
 * Permissions: IoT Hub's docs grant twin reads and writes to ServiceConnect ("access twins to
 * update tags and desired properties, retrieve reported properties", iot-hub-devguide-security;
 * "require the ServiceConnect permission", iot-hub-devguide-device-twins). Reads are also open to
 * RegistryRead, which IoT Hub grants for twin queries; writes need ServiceConnect.
 * @module
 */

import { type Context, Hono } from 'hono';
import {
  type JsonObject,
  
  type ServiceTwin,
  type TwinService,
  validateDeviceId,
  validateModuleId,
} from '@tributary/core';
import { requireAnyPermission, requirePermission, type ServiceAuthenticator } from '../auth.ts';
import { readJsonBody } from '../body.ts';
import type { ServiceApiEnv } from '../context.ts';
import { objectAt } from '../representation/fields.ts';
import { twinJson } from '../representation/twin-json.ts';
import { allowOnly, jsonResponse } from '../respond.ts';

export interface TwinRouteDeps {
  twins: TwinService;
  authenticator: ServiceAuthenticator;
}

const twinResponse = (c: Context, twin: ServiceTwin) => jsonResponse(c, twinJson(twin), { etag: twin.etag });

/** The patch or twin in the body: any JSON object (the twin service checks its fields). */
async function twinBody(c: Context): Promise<JsonObject> {
  return objectAt(await readJsonBody(c), 'The request body') as JsonObject;
}

export function twinRoutes({ twins, authenticator }: TwinRouteDeps) {
  const read = requireAnyPermission(authenticator, ['ServiceConnect', 'RegistryRead']);
  const write = requirePermission(authenticator, 'ServiceConnect');
  const deviceIdOf = (c: Context) => validateDeviceId(c.req.param('deviceId'));
  const moduleIdOf = (c: Context) => validateModuleId(c.req.param('moduleId'));

  return new Hono<ServiceApiEnv>({ strict: false })
    .get('/:deviceId', read, async (c) => twinResponse(c, await twins.getTwin(deviceIdOf(c), null)))
    .patch('/:deviceId', write, async (c) =>
      twinResponse(c, await twins.updateTwin(deviceIdOf(c), null, await twinBody(c), c.req.header('if-match'))),
    )
    .put('/:deviceId', write, async (c) =>
      twinResponse(c, await twins.replaceTwin(deviceIdOf(c), null, await twinBody(c), c.req.header('if-match'))),
    )
    .all('/:deviceId', allowOnly('GET', 'PATCH', 'PUT'))
    .get('/:deviceId/modules/:moduleId', read, async (c) => twinResponse(c, await twins.getTwin(deviceIdOf(c), moduleIdOf(c))))
    .patch('/:deviceId/modules/:moduleId', write, async (c) =>
      twinResponse(c, await twins.updateTwin(deviceIdOf(c), moduleIdOf(c), await twinBody(c), c.req.header('if-match'))),
    )
    .put('/:deviceId/modules/:moduleId', write, async (c) =>
      twinResponse(c, await twins.replaceTwin(deviceIdOf(c), moduleIdOf(c), await twinBody(c), c.req.header('if-match'))),
    )
    .all('/:deviceId/modules/:moduleId', allowOnly('GET', 'PATCH', 'PUT'));
}
