/**
 * Device identities: `PUT/GET/DELETE /devices/{id}`, `GET /devices/` (list, `top`),
 * `POST /devices` (bulk, up to 100) and `POST /devices/{id}/regenerateKeys`.
 * `PUT` without If-Match creates (409 when taken); with If-Match it replaces (412 on a stale etag).
 * @module
 */

import { Hono } from 'hono';
import { argumentInvalid, validateDeviceId, type KeyRegeneration, type IdentityRegistry,  } from '@tributary/core';
import { requirePermission, type ServiceAuthenticator } from '../auth.ts';
import { readJsonBody } from '../body.ts';
import type { ServiceApiEnv } from '../context.ts';
import { deviceJson, parseBulkBody, parseDeviceBody } from '../representation/device-json.ts';
import { objectAt, optionalString } from '../representation/fields.ts';
import { allowOnly, identityResponse, jsonResponse } from '../respond.ts';

const KEY_REGENERATIONS: readonly KeyRegeneration[] = ['primary', 'secondary', 'both', 'swap'];

/** The `keys` field of a regenerate request: which keys to replace (default both). */
export function parseKeyRegeneration(body: unknown): KeyRegeneration {
  const keys = optionalString(objectAt(body ?? {}, 'The request body'), 'keys', 'request') ?? 'both';
  if (!KEY_REGENERATIONS.includes(keys as KeyRegeneration)) {
    throw argumentInvalid(`keys must be one of ${KEY_REGENERATIONS.join(', ')}, got '${keys}'`);
  }
  return keys as KeyRegeneration;
}

function parseTop(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text)) throw argumentInvalid(`top must be a positive integer, got '${text}'`);
  return Number(text);
}

export function deviceRoutes({ registry, authenticator }: { registry: IdentityRegistry; authenticator: ServiceAuthenticator }) {
  const read = requirePermission(authenticator, 'RegistryRead');
  const write = requirePermission(authenticator, 'RegistryWrite');
  const deviceIdOf = (param: string) => validateDeviceId(param);

  return new Hono<ServiceApiEnv>({ strict: false })
    .get('/', read, async (c) => {
      const devices = await registry.listDevices({ top: parseTop(c.req.query('top')) });
      return jsonResponse(c, devices.map(deviceJson));
    })
    .post('/', write, async (c) => {
      const result = await registry.bulk(parseBulkBody(await readJsonBody(c)));
      return jsonResponse(c, result);
    })
    .all('/', allowOnly('GET', 'POST'))
    .get('/:deviceId', read, async (c) => {
      const device = await registry.getDevice(deviceIdOf(c.req.param('deviceId')));
      return identityResponse(c, deviceJson(device));
    })
    .put('/:deviceId', write, async (c) => {
      const input = parseDeviceBody(await readJsonBody(c), deviceIdOf(c.req.param('deviceId')));
      const ifMatch = c.req.header('if-match');
      const device = ifMatch === undefined ? await registry.createDevice(input) : await registry.updateDevice(input, ifMatch);
      return identityResponse(c, deviceJson(device));
    })
    .delete('/:deviceId', write, async (c) => {
      await registry.deleteDevice(deviceIdOf(c.req.param('deviceId')), c.req.header('if-match'));
      return c.body(null, 204);
    })
    .all('/:deviceId', allowOnly('GET', 'PUT', 'DELETE'))
    .post('/:deviceId/regenerateKeys', write, async (c) => {
      const which = parseKeyRegeneration(await readJsonBody(c, { isOptional: true }));
      const device = await registry.regenerateDeviceKeys(deviceIdOf(c.req.param('deviceId')), which);
      return identityResponse(c, deviceJson(device));
    })
    .all('/:deviceId/regenerateKeys', allowOnly('POST'));
}
