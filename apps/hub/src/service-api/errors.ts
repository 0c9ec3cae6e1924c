/**
 * The one mapper from errors to IoT Hub's REST error format, used by the service API and (later)
 * the HTTPS device API: status from the code, header `iothub-errorcode: <Name>`, and the body
 * `{"Message":"ErrorCode:<Name>;<text>","ExceptionMessage":"Tracking ID:…","errorCode":<n>}`
 * that azure-iothub's `Http.parseErrorBody` and the .NET `ExceptionHandlingHelper` read.
 * @module
 */

import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HubError, isHubError, type Logger, serverError } from '@tributary/core';

const pad = (n: number) => String(n).padStart(2, '0');

/** IoT Hub's timestamp in ExceptionMessage: `MM/dd/yyyy HH:mm:ss` UTC. */
function exceptionTimestamp(date: Date): string {
  return `${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}/${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

export interface RestErrorBody {
  Message: string;
  ExceptionMessage: string;
  errorCode: number;
}

export function restErrorBody(error: HubError, trackingId: string, now: Date): RestErrorBody {
  // The SDK keeps only the text between the first and second ';', so the text must not hold one.
  const text = error.message.replaceAll(';', ',');
  return {
    Message: `ErrorCode:${error.code};${text}`,
    ExceptionMessage: `Tracking ID:${trackingId}-G:0-TimeStamp:${exceptionTimestamp(now)}`,
    errorCode: error.numericCode,
  };
}

export function restErrorResponse(error: HubError, trackingId: string = randomUUID().replaceAll('-', '')): Response {
  return new Response(JSON.stringify(restErrorBody(error, trackingId, new Date())), {
    status: error.status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'iothub-errorcode': error.code,
    },
  });
}

/** Hono's own exceptions (body limit, malformed requests) expressed as HubErrors. */
function fromHttpException(error: HTTPException): HubError {
  const name = error.status === 413 ? 'GenericRequestEntityTooLarge' : error.status === 401 ? 'IotHubUnauthorizedAccess' : 'ArgumentInvalid';
  return new HubError(name, error.message || 'The request is not valid', { cause: error });
}

/**
 * The service API's single `onError`: expected outcomes (HubError) are answered as they are,
 * anything else is a bug, logged once with its stack and answered with a generic 500.
 */
export function createErrorHandler(logger: Logger) {
  return (error: Error, c: Context): Response => {
    if (isHubError(error)) return restErrorResponse(error);
    if (error instanceof HTTPException) return restErrorResponse(fromHttpException(error));
    const trackingId = randomUUID().replaceAll('-', '');
    logger.error('request_failed', { method: c.req.method, path: c.req.path, trackingId, error });
    return restErrorResponse(serverError(error), trackingId);
  };
}

export type { ContentfulStatusCode };
