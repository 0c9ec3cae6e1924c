/**
 * The device side of file upload on the HTTPS device API (azure-wire-protocol.md §6.1):
 * `POST /devices/{d}/files` (initiate: correlation id and blob SAS) and
 * `POST /devices/{d}/files/notifications[/{correlationId}]` (complete: 204). Device SAS in
 * `Authorization`; errors reach the REST error mapper of the app it is mounted in.
 * Mount at `/devices`.
 * @module
 */

import { Hono, type Context } from 'hono';
import { argumentInvalid, type FileUploadService, parseFileUploadOutcome } from '@tributary/core';
import { readJsonBody } from '../../service-api/body.ts';
import { jsonResponse } from '../../service-api/respond.ts';
import { authenticateDeviceRequest, type DeviceRequestAuthDeps } from './device-auth.ts';

export interface DeviceFileRoutesDeps extends DeviceRequestAuthDeps {
  files: FileUploadService;
}

/** Upload requests and notifications are a few hundred bytes. */
const MAX_FILE_REQUEST_BYTES = 64 * 1024;

export function deviceFileRoutes(deps: DeviceFileRoutesDeps) {
  const { files } = deps;
  const authenticated = async (c: Context) => {
    const deviceId = c.req.param('deviceId')!;
    await authenticateDeviceRequest(c, { deviceId }, deps);
    return deviceId;
  };
  const complete = async (c: Context, correlationIdInPath?: string) => {
    const deviceId = await authenticated(c);
    const outcome = parseFileUploadOutcome(await readJsonBody(c, { maxBytes: MAX_FILE_REQUEST_BYTES }));
    const correlationId = correlationIdInPath ?? outcome.correlationId;
    if (!correlationId) throw argumentInvalid('The notification names no correlationId');
    await files.complete(deviceId, correlationId, outcome);
    return c.body(null, 204);
  };

  return new Hono({ strict: false })
    .post('/:deviceId/files', async (c) => {
      const deviceId = await authenticated(c);
      const body = await readJsonBody(c, { maxBytes: MAX_FILE_REQUEST_BYTES });
      const blobName = typeof body === 'object' && body !== null ? (body as { blobName?: unknown }).blobName : undefined;
      return jsonResponse(c, await files.initiate(deviceId, blobName));
    })
    .post('/:deviceId/files/notifications', (c) => complete(c))
    .post('/:deviceId/files/notifications/:correlationId', (c) => complete(c, c.req.param('correlationId')));
}
