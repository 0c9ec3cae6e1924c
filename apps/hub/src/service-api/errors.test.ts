/**
 * The REST error mapper, table-driven in the style of the Azure SDK's `_rest_api_client_test.js`:
 * every HubError code → status, `iothub-errorcode` header, `Message`, numeric `errorCode` and
 * `ExceptionMessage`; then the SDK's own parser (`RestApiClient.translateError`) must raise the
 * error class the e2e suites rely on.
 */

import { describe, expect, test } from 'bun:test';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { RestApiClient } from 'azure-iothub/dist/common-http/rest_api_client';
import { Http } from 'azure-iothub/dist/common-http/http';
import * as sdkErrors from 'azure-iothub/dist/common-core/errors';
import { HubError, HubErrorCode, type HubErrorName, type LogFields, type Logger } from '@tributary/core';
import { createErrorHandler, restErrorBody, restErrorResponse } from './errors.ts';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const TRACKING_ID = /^Tracking ID:([0-9a-f]{32})-G:0-TimeStamp:(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})$/;
const ALL_CODES = Object.entries(HubErrorCode) as [HubErrorName, number][];

interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  event: string;
  fields: LogFields;
}

function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (event: string, fields: LogFields = {}) => lines.push({ level, event, fields });
  const logger = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

/** A throwaway app whose only route throws `error`, answered by the mapper under test. */
function appThrowing(error: unknown, logger: Logger = recordingLogger()) {
  const app = new Hono();
  app.onError(createErrorHandler(logger));
  app.all('/boom', () => {
    throw error;
  });
  return app;
}

async function readError(response: Response) {
  return (await response.json()) as { Message: string; ExceptionMessage: string; errorCode: number };
}

describe('every HubError code on the wire', () => {
  test.each(ALL_CODES)('%s (%d) maps to its status, header, Message prefix and numeric errorCode', async (name, numeric) => {
    const response = restErrorResponse(new HubError(name, `what went wrong for ${name}`), 'f'.repeat(32));
    expect(response.status).toBe(Math.floor(numeric / 1000));
    expect(response.headers.get('iothub-errorcode')).toBe(name);
    expect(response.headers.get('content-type')).toBe(JSON_CONTENT_TYPE);
    const body = await readError(response);
    expect(body.Message).toBe(`ErrorCode:${name};what went wrong for ${name}`);
    expect(body.errorCode).toBe(numeric);
    expect(body.ExceptionMessage).toMatch(TRACKING_ID);
    expect(body.ExceptionMessage).toStartWith(`Tracking ID:${'f'.repeat(32)}-G:0-TimeStamp:`);
  });

  test('the status table matches IoT Hub for the codes clients branch on', () => {
    const statusOf = (name: HubErrorName) => new HubError(name, 'x').status;
    expect({
      ArgumentInvalid: statusOf('ArgumentInvalid'),
      IotHubFormatError: statusOf('IotHubFormatError'),
      IotHubUnauthorizedAccess: statusOf('IotHubUnauthorizedAccess'),
      DeviceNotFound: statusOf('DeviceNotFound'),
      GenericMethodNotAllowed: statusOf('GenericMethodNotAllowed'),
      DeviceAlreadyExists: statusOf('DeviceAlreadyExists'),
      PreconditionFailed: statusOf('PreconditionFailed'),
      GenericRequestEntityTooLarge: statusOf('GenericRequestEntityTooLarge'),
      TooManyDevices: statusOf('TooManyDevices'),
      GenericUnsupportedMediaType: statusOf('GenericUnsupportedMediaType'),
      ThrottlingException: statusOf('ThrottlingException'),
      ServerError: statusOf('ServerError'),
      GatewayTimeout: statusOf('GatewayTimeout'),
    }).toEqual({
      ArgumentInvalid: 400,
      IotHubFormatError: 400,
      IotHubUnauthorizedAccess: 401,
      DeviceNotFound: 404,
      GenericMethodNotAllowed: 405,
      DeviceAlreadyExists: 409,
      PreconditionFailed: 412,
      GenericRequestEntityTooLarge: 413,
      TooManyDevices: 413,
      GenericUnsupportedMediaType: 415,
      ThrottlingException: 429,
      ServerError: 500,
      GatewayTimeout: 504,
    });
  });
});

describe('Message text', () => {
  test("a ';' inside the text is replaced so the SDK's Message.split(';')[1] still yields the whole text", () => {
    const body = restErrorBody(new HubError('ArgumentInvalid', 'first; second;third'), 'a'.repeat(32), new Date(0));
    expect(body.Message).toBe('ErrorCode:ArgumentInvalid;first, second,third');
    expect(body.Message.split(';')).toHaveLength(2);
    expect(body.Message.split(';')[1]).toBe('first, second,third');
    expect(Http.parseErrorBody(JSON.stringify(body))).toEqual({ code: 'ArgumentInvalid', message: 'first, second,third' });
  });

  test('quotes, newlines and non-ASCII in the text survive the JSON body unchanged', async () => {
    const text = `device "é" said\nno`;
    const body = await readError(restErrorResponse(new HubError('ArgumentInvalid', text)));
    expect(body.Message).toBe(`ErrorCode:ArgumentInvalid;${text}`);
  });
});

describe('ExceptionMessage', () => {
  test('carries the tracking id and a zero-padded UTC timestamp as MM/dd/yyyy HH:mm:ss', () => {
    const body = restErrorBody(new HubError('DeviceNotFound', 'x'), 'abc123', new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
    expect(body.ExceptionMessage).toBe('Tracking ID:abc123-G:0-TimeStamp:01/02/2026 03:04:05');
  });

  test('uses 24-hour UTC time with a two-digit month and day late in the year', () => {
    const body = restErrorBody(new HubError('DeviceNotFound', 'x'), 't', new Date(Date.UTC(2025, 11, 31, 23, 59, 58, 999)));
    expect(body.ExceptionMessage).toBe('Tracking ID:t-G:0-TimeStamp:12/31/2025 23:59:58');
  });

  test('each response gets its own 32-hex-digit tracking id when none is given', async () => {
    const ids = await Promise.all(
      [1, 2].map(async () => (await readError(restErrorResponse(new HubError('DeviceNotFound', 'x')))).ExceptionMessage.match(TRACKING_ID)![1]),
    );
    expect(ids[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(ids[0]).not.toBe(ids[1]);
  });

  test("the timestamp is the response's own time", async () => {
    const before = Date.now();
    const body = await readError(restErrorResponse(new HubError('DeviceNotFound', 'x')));
    const [, , month, day, year, hours, minutes, seconds] = body.ExceptionMessage.match(TRACKING_ID)!.map(Number);
    const stamped = Date.UTC(year!, month! - 1, day!, hours!, minutes!, seconds!);
    expect(stamped).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(stamped).toBeLessThanOrEqual(Date.now());
  });
});

describe('the SDK raises its own error class for each mapped code', () => {
  const cases: [HubErrorName, string, abstract new (...args: never[]) => Error][] = [
    ['DeviceNotFound', 'DeviceNotFoundError', sdkErrors.DeviceNotFoundError],
    ['DeviceAlreadyExists', 'DeviceAlreadyExistsError', sdkErrors.DeviceAlreadyExistsError],
    ['PreconditionFailed', 'InvalidEtagError', sdkErrors.InvalidEtagError],
    ['IotHubUnauthorizedAccess', 'UnauthorizedError', sdkErrors.UnauthorizedError],
    ['ArgumentInvalid', 'ArgumentError', sdkErrors.ArgumentError],
    ['ThrottlingException', 'ThrottlingError', sdkErrors.ThrottlingError],
    ['ServerError', 'InternalServerError', sdkErrors.InternalServerError],
    ['ServiceUnavailable', 'ServiceUnavailableError', sdkErrors.ServiceUnavailableError],
    ['GatewayTimeout', 'GatewayTimeoutError', sdkErrors.GatewayTimeoutError],
  ];

  test.each(cases)('%s becomes the SDK error %s with the text as its message', async (name, _className, errorClass) => {
    const response = restErrorResponse(new HubError(name, `text for ${name}; with a semicolon`));
    const body = await response.text();
    const error = RestApiClient.translateError(body, { statusCode: response.status });
    expect(error).toBeInstanceOf(errorClass);
    expect(error.message).toBe(`text for ${name}, with a semicolon`);
    expect(error.responseBody).toBe(body);
  });

  test('a 404 other than DeviceNotFound is a plain Error("Not found") in the SDK, never DeviceNotFoundError', async () => {
    const response = restErrorResponse(new HubError('ModuleNotFound', 'module m is not registered'));
    const error = RestApiClient.translateError(await response.text(), { statusCode: response.status });
    expect(error).not.toBeInstanceOf(sdkErrors.DeviceNotFoundError);
    expect(error.message).toBe('Not found');
  });
});

describe('the onError handler', () => {
  test('answers a HubError as it is and logs nothing', async () => {
    const logger = recordingLogger();
    const response = await appThrowing(new HubError('DeviceNotFound', "Device 'd1' is not registered"), logger).request('/boom');
    expect(response.status).toBe(404);
    expect(response.headers.get('iothub-errorcode')).toBe('DeviceNotFound');
    expect((await readError(response)).Message).toBe("ErrorCode:DeviceNotFound;Device 'd1' is not registered");
    expect(logger.lines).toEqual([]);
  });

  test.each([
    [413, 'GenericRequestEntityTooLarge', 413000],
    [401, 'IotHubUnauthorizedAccess', 401002],
    [400, 'ArgumentInvalid', 400004],
  ] as const)("Hono's HTTPException %d is answered as %s", async (status, name, numeric) => {
    const logger = recordingLogger();
    const response = await appThrowing(new HTTPException(status, { message: 'from hono' }), logger).request('/boom');
    expect(response.status).toBe(status);
    expect(response.headers.get('iothub-errorcode')).toBe(name);
    const body = await readError(response);
    expect(body.Message).toBe(`ErrorCode:${name};from hono`);
    expect(body.errorCode).toBe(numeric);
    expect(logger.lines).toEqual([]);
  });

  test('an HTTPException without a message still says the request is not valid', async () => {
    const response = await appThrowing(new HTTPException(400)).request('/boom');
    expect((await readError(response)).Message).toBe('ErrorCode:ArgumentInvalid;The request is not valid');
  });

  test('an unexpected Error is a 500 ServerError with a generic message, logged once with the same tracking id', async () => {
    const logger = recordingLogger();
    const bug = new Error('relation "devices" does not exist; password=hunter2');
    const response = await appThrowing(bug, logger).request('/boom', { method: 'PUT' });
    expect(response.status).toBe(500);
    expect(response.headers.get('iothub-errorcode')).toBe('ServerError');
    expect(response.headers.get('content-type')).toBe(JSON_CONTENT_TYPE);
    const text = await response.text();
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('relation');
    const body = JSON.parse(text) as { Message: string; ExceptionMessage: string; errorCode: number };
    expect(body.Message).toBe('ErrorCode:ServerError;The hub failed to process the request');
    expect(body.errorCode).toBe(500001);
    expect(logger.lines).toHaveLength(1);
    const [line] = logger.lines;
    expect(line).toMatchObject({ level: 'error', event: 'request_failed', fields: { method: 'PUT', path: '/boom', error: bug } });
    expect(body.ExceptionMessage).toStartWith(`Tracking ID:${line!.fields.trackingId}-G:0-TimeStamp:`);
  });

  test('a TypeError from a bug in a route is a 500 ServerError logged at error level', async () => {
    const logger = recordingLogger();
    const response = await appThrowing(new TypeError('x is undefined'), logger).request('/boom');
    expect(response.status).toBe(500);
    expect((await readError(response)).Message).toBe('ErrorCode:ServerError;The hub failed to process the request');
    expect(logger.lines.map((line) => line.level)).toEqual(['error']);
  });
});
