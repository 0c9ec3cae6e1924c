/**
 * The service REST API as one Hono app: routes by resource, the one error mapper, api-version
 * accepted whatever its value, and `GET /health` for liveness. The console's static files are
 * mounted by the composition root, not here.
 * @module
 */

import { Hono } from 'hono';
import { getPathNoStrict } from 'hono/utils/url';
import { normalizeDeviceApiPath } from '../adapters/https-device/path-case.ts';
import { notFound } from '@tributary/core';
import type { ServiceApiDeps, ServiceApiEnv } from './context.ts';
import { createErrorHandler, restErrorResponse } from './errors.ts';
import { blobStorageRoutes } from '../blob-storage/blob-routes.ts';
import { certificateRoutes } from './routes/certificates.ts';
import { fileServiceRoutes } from './routes/files.ts';
import { cloudToDeviceRoutes } from './routes/cloud-to-device.ts';
import { deviceRoutes } from './routes/devices.ts';
import { eventRoutes } from './routes/events.ts';
import { methodRoutes } from './routes/methods.ts';
import { moduleRoutes } from './routes/modules.ts';
import { statisticsRoutes } from './routes/statistics.ts';
import { twinRoutes } from './routes/twins.ts';
import { jsonResponse } from './respond.ts';

export interface HealthInfo {
  version: string;
  startedAtMs: number;
}

/**
 * The hub's REST app: the HTTPS device API (when given; mounted first, authorised by device
 * tokens) and the service API (authorised by policy tokens) on one origin. Device API paths are
 * matched whatever the case of their fixed segments, as the SDK and the docs spell them differently.
 */
export function createServiceApp(deps: ServiceApiDeps, health: HealthInfo, deviceApi?: Hono) {
  // Hono's non-strict path (a trailing slash is ignored, as `GET /devices/` needs) with the device API's segments lower-cased.
  const app = new Hono<ServiceApiEnv>({ getPath: (request) => normalizeDeviceApiPath(getPathNoStrict(request)) });
  app.onError(createErrorHandler(deps.logger));
  app.notFound((c) => restErrorResponse(notFound(`${c.req.method} ${c.req.path}`)));

  app.get('/health', (c) =>
    jsonResponse(c, {
      status: 'ok',
      version: health.version,
      uptimeSeconds: Math.floor((Date.now() - health.startedAtMs) / 1000),
    }),
  );
  const { authenticator, logger } = deps;
  // Blob storage speaks Azure Storage's REST dialect (XML errors) under its own container path.
  app.route('/', blobStorageRoutes({ files: deps.files, logger }));
  if (deviceApi) app.route('/', deviceApi);
  app.route('/devices', deviceRoutes(deps));
  app.route('/devices', moduleRoutes(deps));
  app.route('/devices', cloudToDeviceRoutes({ queue: deps.c2d, authenticator }));
  app.route('/twins', twinRoutes({ twins: deps.twins, authenticator }));
  app.route('/twins', methodRoutes({ methods: deps.methods, authenticator }));
  app.route('/statistics', statisticsRoutes(deps));
  app.route('/certificates', certificateRoutes({ certificates: deps.caCertificates, authenticator }));
  app.route('/', fileServiceRoutes({ files: deps.files, authenticator }));
  app.route('/events', eventRoutes({ ...deps.events, authenticator, logger }));
  return app;
}
