/**
 * Direct methods: `POST /twins/{id}/methods` and `POST /twins/{id}/modules/{m}/methods` with
 * `{methodName, payload, responseTimeoutInSeconds, connectTimeoutInSeconds}`, answered
 * `200 {status, payload}` with the device's own status (even 4xx/5xx ones, as IoT Hub does).
 * 404103 DeviceNotOnline and 504101 GatewayTimeout come from core's MethodInvoker.
 * @module
 */

import { Hono } from 'hono';
import {
  argumentInvalid,
  type JsonValue,
  type MethodInvoker,
  
  validateDeviceId,
  validateModuleId,
} from '@tributary/core';
import { requirePermission, type ServiceAuthenticator } from '../auth.ts';
import { readJsonBody } from '../body.ts';
import type { ServiceApiEnv } from '../context.ts';
import { objectAt } from '../representation/fields.ts';
import { allowOnly, jsonResponse } from '../respond.ts';

function optionalInteger(fields: Record<string, unknown>, key: string): number | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw argumentInvalid(`${key} must be a number of seconds`);
  return value;
}

export function methodRoutes(deps: { methods: MethodInvoker; authenticator: ServiceAuthenticator }) {
  const connect = requirePermission(deps.authenticator, 'ServiceConnect');

  const invoke = async (body: unknown, deviceId: string, moduleId: string | null) => {
    const fields = objectAt(body, 'The request body');
    if (typeof fields.methodName !== 'string') throw argumentInvalid('methodName is required and must be a string');
    return deps.methods.invoke({
      deviceId,
      moduleId,
      methodName: fields.methodName,
      payload: (fields.payload ?? null) as JsonValue,
      responseTimeoutInSeconds: optionalInteger(fields, 'responseTimeoutInSeconds'),
      connectTimeoutInSeconds: optionalInteger(fields, 'connectTimeoutInSeconds'),
    });
  };

  return new Hono<ServiceApiEnv>({ strict: false })
    .post('/:deviceId/methods', connect, async (c) => {
      const result = await invoke(await readJsonBody(c), validateDeviceId(c.req.param('deviceId')), null);
      return jsonResponse(c, result);
    })
    .all('/:deviceId/methods', allowOnly('POST'))
    .post('/:deviceId/modules/:moduleId/methods', connect, async (c) => {
      const result = await invoke(
        await readJsonBody(c),
        validateDeviceId(c.req.param('deviceId')),
        validateModuleId(c.req.param('moduleId')),
      );
      return jsonResponse(c, result);
    })
    .all('/:deviceId/modules/:moduleId/methods', allowOnly('POST'));
}
