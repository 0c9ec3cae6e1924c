/**
 * The built-in blob storage's HTTP API: the subset of the Azure Blob REST API @azure/storage-blob
 * uses to upload and download (Put Blob, Put Block, Put Block List, Get Blob, Get Blob
 * Properties), at `/{container}/{blobName}` on the hub's HTTPS origin, authorised by the SAS the
 * hub issued with the upload. Routes translate HTTP only; FileUploadService owns SAS, quota and
 * refusal. Mount it at the root of the hub's HTTPS app (its paths carry the container).
 * @module
 */

import { Hono, type Context } from 'hono';
import type { BlobHttpHeaders, FileUploadService, Logger } from '@tributary/core';
import { blobErrorResponse, createBlobErrorHandler } from './blob-errors.ts';
import { commonHeaders, propertyHeaders } from './blob-headers.ts';

export interface BlobRoutesDeps {
  files: FileUploadService;
  logger: Logger;
}

/** A block list of 50,000 ids stays well below this. */
const MAX_BLOCK_LIST_BYTES = 8 * 1024 * 1024;
/** Azure's limit on a block id: 64 bytes before base64 encoding. */
const MAX_BLOCK_ID_BYTES = 64;

const BLOCK_LIST_ENTRY = /<(Latest|Committed|Uncommitted)>([^<]*)<\/\1>/g;

/** The ids of a Put Block List body (`<BlockList><Latest>…</Latest>…</BlockList>`), in order. */
export function parseBlockList(xml: string): string[] | undefined {
  if (!/<BlockList\s*>/.test(xml) && !/<BlockList\s*\/>/.test(xml)) return undefined;
  return [...xml.matchAll(BLOCK_LIST_ENTRY)].map((match) => match[2]!.trim());
}

/** `bytes=start-[end]` from x-ms-range or Range; undefined for none, 'invalid' when unsatisfiable. */
export function parseRange(header: string | undefined, length: number): { start: number; end: number } | undefined | 'invalid' {
  if (!header) return undefined;
  const match = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = match[2] ? Math.min(Number(match[2]), length - 1) : length - 1;
  if (start >= length || end < start) return 'invalid';
  return { start, end };
}

function blobHeadersOf(c: Context, isPutBlob: boolean): BlobHttpHeaders {
  const header = (name: string) => c.req.header(name) || undefined;
  const pick = (blobHeader: string, plain: string) => header(blobHeader) ?? (isPutBlob ? header(plain) : undefined);
  const headers: BlobHttpHeaders = {};
  const entries: [keyof BlobHttpHeaders, string | undefined][] = [
    ['contentType', pick('x-ms-blob-content-type', 'content-type')],
    ['contentEncoding', pick('x-ms-blob-content-encoding', 'content-encoding')],
    ['contentLanguage', pick('x-ms-blob-content-language', 'content-language')],
    ['contentDisposition', header('x-ms-blob-content-disposition')],
    ['cacheControl', header('x-ms-blob-cache-control')],
    ['contentMd5', header('x-ms-blob-content-md5')],
  ];
  for (const [key, value] of entries) if (value !== undefined) headers[key] = value;
  return headers;
}

const declaredLength = (c: Context) => {
  const value = c.req.header('content-length');
  return value === undefined || !/^\d+$/.test(value) ? undefined : Number(value);
};

const bodyOf = (c: Context) => c.req.raw.body ?? new Uint8Array(0);

export function blobStorageRoutes(deps: BlobRoutesDeps) {
  const { files } = deps;
  const container = files.containerName;
  const prefix = `/${container}/`;
  const app = new Hono({ strict: false });
  app.onError(createBlobErrorHandler(deps.logger));

  /** The blob name of the request: the path after the container, percent-decoded. */
  const blobNameOf = (c: Context): string | undefined => {
    const pathname = new URL(c.req.url).pathname;
    if (!pathname.startsWith(prefix)) return undefined;
    try {
      const name = decodeURIComponent(pathname.slice(prefix.length));
      return name === '' ? undefined : name;
    } catch {
      return undefined;
    }
  };
  const invalidUri = (c: Context) =>
    blobErrorResponse({ status: 400, code: 'InvalidUri', message: 'The requested URI does not represent any resource on the server.' }, { isHead: c.req.method === 'HEAD' });

  app.put(`${prefix}*`, async (c) => {
    const blobName = blobNameOf(c);
    if (!blobName) return invalidUri(c);
    const query = new URL(c.req.url).searchParams;
    await files.authorizeBlobRequest(container, blobName, query, 'w');
    const comp = query.get('comp');
    const headers = commonHeaders(c.req.raw);

    if (comp === 'block') {
      const blockId = query.get('blockid');
      if (!blockId || Buffer.from(blockId, 'base64').length > MAX_BLOCK_ID_BYTES) {
        return blobErrorResponse({ status: 400, code: 'InvalidQueryParameterValue', message: 'Value for one of the query parameters specified in the request URI is invalid. (blockid)' });
      }
      const written = await files.putBlock(blobName, blockId, bodyOf(c), declaredLength(c));
      const expectedMd5 = c.req.header('content-md5');
      if (expectedMd5 && expectedMd5 !== written.contentMd5) {
        return blobErrorResponse({ status: 400, code: 'Md5Mismatch', message: 'The MD5 value specified in the request did not match with the MD5 value calculated by the server.' });
      }
      return c.body(null, 201, { ...headers, 'content-md5': written.contentMd5, 'x-ms-request-server-encrypted': 'true' });
    }

    if (comp === 'blocklist') {
      const length = declaredLength(c);
      const text = length !== undefined && length > MAX_BLOCK_LIST_BYTES ? undefined : await c.req.text();
      if (text === undefined || text.length > MAX_BLOCK_LIST_BYTES) {
        return blobErrorResponse({ status: 413, code: 'RequestBodyTooLarge', message: 'The block list is too large.' });
      }
      const blockIds = parseBlockList(text);
      if (!blockIds) return blobErrorResponse({ status: 400, code: 'InvalidXmlDocument', message: 'XML specified is not syntactically valid.' });
      const result = await files.commitBlockList(blobName, blockIds, blobHeadersOf(c, false));
      if (!result.isCommitted) return blobErrorResponse({ status: 400, code: 'InvalidBlockList', message: 'The specified block list is invalid.' });
      const { properties } = result;
      return c.body(null, 201, {
        ...headers,
        etag: properties.etag,
        'last-modified': new Date(properties.lastModified).toUTCString(),
        'x-ms-request-server-encrypted': 'true',
      });
    }

    if (comp !== null) {
      return blobErrorResponse({ status: 400, code: 'UnsupportedQueryParameter', message: `The comp=${comp} operation is not supported by this storage.` });
    }
    if (c.req.header('x-ms-blob-type') !== 'BlockBlob') {
      return blobErrorResponse({ status: 400, code: 'MissingRequiredHeader', message: 'x-ms-blob-type must be BlockBlob.' });
    }
    const properties = await files.putBlob(blobName, bodyOf(c), blobHeadersOf(c, true), declaredLength(c));
    return c.body(null, 201, {
      ...headers,
      etag: properties.etag,
      'last-modified': new Date(properties.lastModified).toUTCString(),
      'content-md5': properties.contentMd5,
      'x-ms-request-server-encrypted': 'true',
    });
  });

  app.on(['GET', 'HEAD'], `${prefix}*`, async (c) => {
    const isHead = c.req.method === 'HEAD';
    const blobName = blobNameOf(c);
    if (!blobName) return invalidUri(c);
    const query = new URL(c.req.url).searchParams;
    await files.authorizeBlobRequest(container, blobName, query, 'r');
    const properties = await files.getBlobProperties(blobName);
    if (!properties) return blobErrorResponse({ status: 404, code: 'BlobNotFound', message: 'The specified blob does not exist.' }, { isHead });
    const headers = { ...commonHeaders(c.req.raw), ...propertyHeaders(properties) };
    const range = isHead ? undefined : parseRange(c.req.header('x-ms-range') ?? c.req.header('range'), properties.contentLength);
    if (range === 'invalid') {
      return blobErrorResponse({ status: 416, code: 'InvalidRange', message: 'The range specified is invalid for the current size of the resource.' });
    }
    if (isHead) {
      return new Response(null, { status: 200, headers: { ...headers, 'content-length': String(properties.contentLength), 'content-md5': properties.contentMd5 } });
    }
    const body = await files.readBlob(blobName, range);
    if (!body) return blobErrorResponse({ status: 404, code: 'BlobNotFound', message: 'The specified blob does not exist.' });
    if (range) {
      return new Response(body, {
        status: 206,
        headers: {
          ...headers,
          'content-length': String(range.end - range.start + 1),
          'content-range': `bytes ${range.start}-${range.end}/${properties.contentLength}`,
          'x-ms-blob-content-md5': properties.contentMd5,
        },
      });
    }
    return new Response(body, { status: 200, headers: { ...headers, 'content-length': String(properties.contentLength), 'content-md5': properties.contentMd5 } });
  });

  app.all(`${prefix}*`, (c) =>
    blobErrorResponse({ status: 405, code: 'UnsupportedHttpVerb', message: `The resource doesn't support ${c.req.method}.` }, { isHead: c.req.method === 'HEAD' }),
  );
  return app;
}
