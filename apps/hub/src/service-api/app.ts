/**
 * The service REST API as one Hono app: routes by resource, the one error mapper, api-version
 * accepted whatever its value, and `GET /health` for liveness. The console's static files are
 * mounted by the composition root, not here.
 * @module
 */

import { Hono } from 'hono';
import { notFound } from '@tributary/core';
import type { ServiceApiDeps, ServiceApiEnv } from './context.ts';
import { createErrorHandler, restErrorResponse } from './errors.ts';
import { deviceRoutes } from './routes/devices.ts';
import { moduleRoutes } from './routes/modules.ts';
import { statisticsRoutes } from './routes/statistics.ts';
import { jsonResponse } from './respond.ts';

export interface HealthInfo {
  version: string;
  startedAtMs: number;
}

export function createServiceApp(deps: ServiceApiDeps, health: HealthInfo) {
  const app = new Hono<ServiceApiEnv>({ strict: false });
  app.onError(createErrorHandler(deps.logger));
  app.notFound((c) => restErrorResponse(notFound(`${c.req.method} ${c.req.path}`)));

  app.get('/health', (c) =>
    jsonResponse(c, {
      status: 'ok',
      version: health.version,
      uptimeSeconds: Math.floor((Date.now() - health.startedAtMs) / 1000),
    }),
  );
  app.route('/devices', deviceRoutes(deps));
  app.route('/devices', moduleRoutes(deps));
  app.route('/statistics', statisticsRoutes(deps));
  return app;
}
