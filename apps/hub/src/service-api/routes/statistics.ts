/**
 * `GET /statistics/devices` (registry counts) and `GET /statistics/service` (connected devices).
 * @module
 */

import { Hono } from 'hono';
import type { IdentityRegistry, PolicyAuthenticator } from '@tributary/core';
import { requirePermission, type ServiceAuthenticator } from '../auth.ts';
import type { ServiceApiEnv } from '../context.ts';
import { jsonResponse } from '../respond.ts';

export function statisticsRoutes({ registry, authenticator }: { registry: IdentityRegistry; authenticator: ServiceAuthenticator }) {
  const read = requirePermission(authenticator, 'RegistryRead');
  return new Hono<ServiceApiEnv>({ strict: false })
    .get('/devices', read, async (c) => jsonResponse(c, await registry.statistics()))
    .get('/service', read, async (c) => jsonResponse(c, await registry.serviceStatistics()));
}
