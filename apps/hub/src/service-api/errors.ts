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
import { HubError, type HubErrorName, isHubError, type Logger, serverError } from '@tributary/core';

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

export function restErrorResponse(
  error: HubError,
  trackingId: string = randomUUID().replaceAll('-', ''),
  extraHeaders: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(restErrorBody(error, trackingId, new Date())), {
    status: error.status,
    headers: {
      ...extraHeaders,
      'content-type': 'application/json; charset=utf-8',
      'iothub-errorcode': error.code,
    },
  });
}

const HTTP_STATUS_ERRORS: Partial<Record<number, HubErrorName>> = {
  401: 'IotHubUnauthorizedAccess',
  404: 'GenericNotFound',
  405: 'GenericMethodNotAllowed',
  413: 'GenericRequestEntityTooLarge',
  415: 'GenericUnsupportedMediaType',
  429: 'ThrottlingException',
};

/** Hono's own exceptions (from its middleware) expressed as HubErrors, by status. */
function fromHttpException(error: HTTPException): HubError {
  const name = HTTP_STATUS_ERRORS[error.status] ?? (error.status >= 500 ? 'ServerError' : 'ArgumentInvalid');
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
