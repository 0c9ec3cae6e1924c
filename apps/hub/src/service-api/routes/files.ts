/**
 * Uploaded files for operators and integrators (ServiceConnect): list a device's files, download
 * one, delete one; read and acknowledge file notifications (the REST face of what the AMQP
 * receiver `/messages/serviceBound/filenotifications` delivers); read and change the file
 * upload settings (RegistryWrite to change). Mount at `/`.
 * @module
 */

import { Hono } from 'hono';
import {
  argumentInvalid,
  type BlobProperties,
  type FileUploadService,
  fileNotificationBody,
  notFound,
  parseFileUploadSettings,
  
} from '@tributary/core';
import type { ServiceApiEnv } from '../context.ts';
import { requirePermission, type ServiceAuthenticator } from '../auth.ts';
import { readJsonBody } from '../body.ts';
import { jsonResponse } from '../respond.ts';

export interface FileServiceRoutesDeps {
  files: FileUploadService;
  authenticator: ServiceAuthenticator;
}

const MAX_NOTIFICATIONS_PAGE = 1000;

/** A stored file as the REST API shows it. */
export function fileJson(properties: BlobProperties) {
  const slash = properties.blobName.indexOf('/');
  return {
    name: properties.blobName.slice(slash + 1),
    blobName: properties.blobName,
    sizeInBytes: properties.contentLength,
    contentType: properties.contentType,
    contentMd5: properties.contentMd5,
    etag: properties.etag,
    createdTime: new Date(properties.createdAt).toISOString(),
    lastUpdatedTime: new Date(properties.lastModified).toISOString(),
  };
}

export function fileServiceRoutes({ files, authenticator }: FileServiceRoutesDeps) {
  const serviceConnect = requirePermission(authenticator, 'ServiceConnect');
  const registryWrite = requirePermission(authenticator, 'RegistryWrite');
  return new Hono<ServiceApiEnv>({ strict: false })
    .get('/devices/:deviceId/files', serviceConnect, async (c) =>
      jsonResponse(c, (await files.listFiles(c.req.param('deviceId'))).map(fileJson)),
    )
    .get('/devices/:deviceId/files/:name{.+}', serviceConnect, async (c) => {
      const { properties, body } = await files.readFile(c.req.param('deviceId'), c.req.param('name'));
      return new Response(body, {
        headers: {
          'content-type': properties.contentType,
          'content-length': String(properties.contentLength),
          'content-md5': properties.contentMd5,
          etag: properties.etag,
          'last-modified': new Date(properties.lastModified).toUTCString(),
        },
      });
    })
    .delete('/devices/:deviceId/files/:name{.+}', serviceConnect, async (c) => {
      await files.deleteFile(c.req.param('deviceId'), c.req.param('name'));
      return c.body(null, 204);
    })
    .get('/files/notifications', serviceConnect, async (c) => {
      const top = Number(c.req.query('top') ?? 100);
      if (!Number.isInteger(top) || top < 1 || top > MAX_NOTIFICATIONS_PAGE) throw argumentInvalid(`top must be an integer from 1 to ${MAX_NOTIFICATIONS_PAGE}`);
      const notifications = await files.listNotifications({ deviceId: c.req.query('deviceId'), limit: top });
      return jsonResponse(c, notifications.map((n) => ({ id: n.id, ...fileNotificationBody(n) })));
    })
    .delete('/files/notifications/:id', serviceConnect, async (c) => {
      const id = Number(c.req.param('id'));
      if (!Number.isSafeInteger(id)) throw argumentInvalid('The notification id must be an integer');
      if ((await files.deleteNotifications([id])) === 0) throw notFound(`File notification ${id}`);
      return c.body(null, 204);
    })
    .get('/files/settings', serviceConnect, async (c) => jsonResponse(c, await files.getSettings()))
    .patch('/files/settings', registryWrite, async (c) => jsonResponse(c, await files.updateSettings(parseFileUploadSettings(await readJsonBody(c)))));
}
