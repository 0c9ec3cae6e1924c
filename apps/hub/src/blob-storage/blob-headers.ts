/**
 * Response headers of the blob API: every response carries `x-ms-request-id`, `x-ms-version` and
 * `Date`; a blob's properties travel as the headers Get Blob Properties returns.
 * @module
 */

import { randomUUID } from 'node:crypto';
import type { BlobProperties } from '@tributary/core';

/** The storage service version answered (the one @azure/storage-blob 12.8.0 sends). */
export const BLOB_API_VERSION = '2020-10-02';

export function commonHeaders(request: Request): Record<string, string> {
  const headers: Record<string, string> = {
    'x-ms-request-id': randomUUID(),
    'x-ms-version': BLOB_API_VERSION,
    date: new Date().toUTCString(),
  };
  const clientRequestId = request.headers.get('x-ms-client-request-id');
  if (clientRequestId) headers['x-ms-client-request-id'] = clientRequestId;
  return headers;
}

export function propertyHeaders(properties: BlobProperties): Record<string, string> {
  const headers: Record<string, string> = {
    etag: properties.etag,
    'last-modified': new Date(properties.lastModified).toUTCString(),
    'content-type': properties.contentType,
    'accept-ranges': 'bytes',
    'x-ms-blob-type': 'BlockBlob',
    'x-ms-creation-time': new Date(properties.createdAt).toUTCString(),
    'x-ms-lease-state': 'available',
    'x-ms-lease-status': 'unlocked',
    'x-ms-server-encrypted': 'true',
    'x-ms-access-tier': 'Hot',
    'x-ms-access-tier-inferred': 'true',
  };
  if (properties.contentEncoding) headers['content-encoding'] = properties.contentEncoding;
  if (properties.contentLanguage) headers['content-language'] = properties.contentLanguage;
  if (properties.contentDisposition) headers['content-disposition'] = properties.contentDisposition;
  if (properties.cacheControl) headers['cache-control'] = properties.cacheControl;
  return headers;
}
