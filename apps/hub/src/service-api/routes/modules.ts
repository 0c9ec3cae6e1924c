/**
 * Module identities: `PUT/GET/DELETE /devices/{d}/modules/{m}`, `GET /devices/{d}/modules`,
 * `POST /devices/{d}/modules/{m}/regenerateKeys`. Same If-Match rules as devices.
 * @module
 */

import { Hono } from 'hono';
import { validateDeviceId, validateModuleId, type IdentityRegistry,  } from '@tributary/core';
import { requirePermission, type ServiceAuthenticator } from '../auth.ts';
import { readJsonBody } from '../body.ts';
import type { ServiceApiEnv } from '../context.ts';
import { moduleJson, parseModuleBody } from '../representation/module-json.ts';
import { allowOnly, identityResponse, jsonResponse } from '../respond.ts';
import { parseKeyRegeneration } from './devices.ts';

export function moduleRoutes({ registry, authenticator }: { registry: IdentityRegistry; authenticator: ServiceAuthenticator }) {
  const read = requirePermission(authenticator, 'RegistryRead');
  const write = requirePermission(authenticator, 'RegistryWrite');

  return new Hono<ServiceApiEnv>({ strict: false })
    .get('/:deviceId/modules', read, async (c) => {
      const modules = await registry.listModules(validateDeviceId(c.req.param('deviceId')));
      return jsonResponse(c, modules.map(moduleJson));
    })
    .all('/:deviceId/modules', allowOnly('GET'))
    .get('/:deviceId/modules/:moduleId', read, async (c) => {
      const module = await registry.getModule(
        validateDeviceId(c.req.param('deviceId')),
        validateModuleId(c.req.param('moduleId')),
      );
      return identityResponse(c, moduleJson(module));
    })
    .put('/:deviceId/modules/:moduleId', write, async (c) => {
      const input = parseModuleBody(
        await readJsonBody(c),
        validateDeviceId(c.req.param('deviceId')),
        validateModuleId(c.req.param('moduleId')),
      );
      const ifMatch = c.req.header('if-match');
      const module = ifMatch === undefined ? await registry.createModule(input) : await registry.updateModule(input, ifMatch);
      return identityResponse(c, moduleJson(module));
    })
    .delete('/:deviceId/modules/:moduleId', write, async (c) => {
      await registry.deleteModule(
        validateDeviceId(c.req.param('deviceId')),
        validateModuleId(c.req.param('moduleId')),
        c.req.header('if-match'),
      );
      return c.body(null, 204);
    })
    .all('/:deviceId/modules/:moduleId', allowOnly('GET', 'PUT', 'DELETE'))
    .post('/:deviceId/modules/:moduleId/regenerateKeys', write, async (c) => {
      const which = parseKeyRegeneration(await readJsonBody(c, { isOptional: true }));
      const module = await registry.regenerateModuleKeys(
        validateDeviceId(c.req.param('deviceId')),
        validateModuleId(c.req.param('moduleId')),
        which,
      );
      return identityResponse(c, moduleJson(module));
    })
    .all('/:deviceId/modules/:moduleId/regenerateKeys', allowOnly('POST'));
}
