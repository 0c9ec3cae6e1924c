/**
 * Response helpers: IoT Hub answers JSON as `application/json; charset=utf-8` (the SDK returns
 * the raw string for anything else) and carries the etag of a single identity in `ETag`.
 * @module
 */

import type { Context } from 'hono';
import { methodNotAllowed } from '@tributary/core';
import { restErrorResponse } from './errors.ts';

export function jsonResponse(c: Context, body: unknown, init: { status?: number; etag?: string } = {}): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (init.etag) headers.etag = `"${init.etag}"`;
  return c.body(JSON.stringify(body), (init.status ?? 200) as 200, headers);
}

/** A single identity (device or module) as JSON, with its etag also in the `ETag` header. */
export function identityResponse(c: Context, json: { etag: string }): Response {
  return jsonResponse(c, json, { etag: json.etag });
}

/**
 * The handler a route registers last on a path: any other method gets 405 with the `Allow`
 * header listing the methods the path does serve (RFC 9110 §15.5.6).
 */
export function allowOnly(...methods: string[]) {
  return (c: Context) => restErrorResponse(methodNotAllowed(c.req.method, c.req.path), undefined, { allow: methods.join(', ') });
}
