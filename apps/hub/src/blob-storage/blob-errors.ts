/**
 * The blob API's one error mapper: Azure Storage's XML error body and `x-ms-error-code` header,
 * which @azure/storage-blob parses into RestError (code, statusCode). HubErrors from core map by
 * code; 403 AuthenticationFailed covers every SAS failure, as Azure answers them.
 * @module
 */

import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import { type HubErrorName, isHubError, type Logger } from '@tributary/core';
import { BLOB_API_VERSION } from './blob-headers.ts';

export interface BlobError {
  status: number;
  code: string;
  message: string;
}

const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

const BY_HUB_CODE: Partial<Record<HubErrorName, Omit<BlobError, 'message'>>> = {
  IotHubUnauthorizedAccess: { status: 403, code: 'AuthenticationFailed' },
  IotHubUnauthorized: { status: 403, code: 'AuthenticationFailed' },
  // Azure Files answers its share quota with 413 (ShareSizeLimitReached); this is the device's quota.
  IotHubQuotaExceeded: { status: 413, code: 'DeviceFileQuotaExceeded' },
  GenericRequestEntityTooLarge: { status: 413, code: 'RequestBodyTooLarge' },
  ArgumentInvalid: { status: 400, code: 'InvalidInput' },
  IotHubFormatError: { status: 400, code: 'InvalidXmlDocument' },
  GenericNotFound: { status: 404, code: 'BlobNotFound' },
};

export function blobErrorResponse(error: BlobError, options: { isHead?: boolean; requestId?: string } = {}): Response {
  const requestId = options.requestId ?? randomUUID();
  const headers = {
    'content-type': 'application/xml',
    'x-ms-error-code': error.code,
    'x-ms-request-id': requestId,
    'x-ms-version': BLOB_API_VERSION,
    date: new Date().toUTCString(),
  };
  if (options.isHead) return new Response(null, { status: error.status, headers });
  const message = `${error.message}\nRequestId:${requestId}\nTime:${new Date().toISOString()}`;
  const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${error.code}</Code><Message>${escapeXml(message)}</Message></Error>`;
  return new Response(body, { status: error.status, headers });
}

/** The blob routes' `onError`: HubErrors by code, anything else a logged 500 InternalError. */
export function createBlobErrorHandler(logger: Logger) {
  return (error: Error, c: Context): Response => {
    const isHead = c.req.method === 'HEAD';
    if (isHubError(error)) {
      const mapped = BY_HUB_CODE[error.code] ?? { status: error.status >= 500 ? 500 : 400, code: error.status >= 500 ? 'InternalError' : 'InvalidInput' };
      return blobErrorResponse({ ...mapped, message: error.message }, { isHead });
    }
    const requestId = randomUUID();
    logger.error('blob_request_failed', { method: c.req.method, path: c.req.path, requestId, error });
    return blobErrorResponse({ status: 500, code: 'InternalError', message: 'The server encountered an internal error.' }, { isHead, requestId });
  };
}
