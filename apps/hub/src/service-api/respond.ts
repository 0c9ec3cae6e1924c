/**
 * Response helpers: IoT Hub answers JSON as `application/json; charset=utf-8` (the SDK returns
 * the raw string for anything else) and carries the etag of a single identity in `ETag`.
 * @module
 */

import type { Context } from 'hono';

export function jsonResponse(c: Context, body: unknown, init: { status?: number; etag?: string } = {}): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (init.etag) headers.etag = `"${init.etag}"`;
  return c.body(JSON.stringify(body), (init.status ?? 200) as 200, headers);
}
