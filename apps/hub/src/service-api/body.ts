/**
 * Reading JSON request bodies: size limit, content type and syntax, each failure a HubError
 * that says what was wrong.
 * @module
 */

import type { Context } from 'hono';
import { formatError, type HubError, requestEntityTooLarge, unsupportedMediaType } from '@tributary/core';

/** Registry bodies are small (a bulk call of 100 devices with twins stays well below this). */
export const MAX_SERVICE_BODY_BYTES = 1024 * 1024;

/**
 * The parsed JSON body; refuses non-JSON content types, oversized bodies and malformed JSON.
 * With `isOptional`, an empty body (whatever its framing) reads as `undefined` instead of failing.
 */
export async function readJsonBody(
  c: Context,
  { maxBytes = MAX_SERVICE_BODY_BYTES, isOptional = false }: { maxBytes?: number; isOptional?: boolean } = {},
): Promise<unknown> {
  const contentType = c.req.header('content-type');
  if (contentType && !/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) throw unsupportedMediaType(contentType);
  const bytes = await readBodyBytes(c, maxBytes);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (text.trim() === '') {
    if (isOptional) return undefined;
    throw formatError('The request body is empty, a JSON document was expected');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw formatError(`The request body is not valid JSON: ${(error as Error).message}`, error);
  }
}

/**
 * The raw body bytes, refused with `tooLarge()` as soon as the declared or streamed size passes
 * `maxBytes` (chunked bodies carry no length, so the stream is counted as it arrives).
 */
export async function readBodyBytes(
  c: Context,
  maxBytes: number,
  tooLarge: () => HubError = () => requestEntityTooLarge(maxBytes),
): Promise<Uint8Array> {
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (declared > maxBytes) throw tooLarge();
  const request = c.req.raw;
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of request.body) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
