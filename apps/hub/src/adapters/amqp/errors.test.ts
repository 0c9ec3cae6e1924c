import { describe, expect, test } from 'bun:test';
import { createRequire } from 'node:module';
import { HubError, HubErrorCode, type HubErrorName } from '@tributary/core';
import rhea from 'rhea';
import { AmqpCondition, amqpErrorFor, twinErrorResponse, twinStatusFor } from './errors.ts';
import { twinResponseToAmqp } from './message-mapping.ts';

// The SDKs' own translators, loaded from the installed packages (each with its own rhea 1.0.24).
const require = createRequire(import.meta.url);
const requireFromDeviceAmqp = createRequire(require.resolve('azure-iot-device-amqp'));
const requireFromAmqpBase = createRequire(requireFromDeviceAmqp.resolve('azure-iot-amqp-base'));
type Translate = (message: string, amqpError: unknown) => Error;
/** azure-iot-amqp-base/dist/amqp_common_errors.js: what device clients raise. */
const deviceTranslate: Translate = requireFromDeviceAmqp('azure-iot-amqp-base').translateError;
/** azure-iothub/dist/amqp_service_errors.js: what the service Client raises. */
const serviceTranslate: Translate = require('azure-iothub/dist/amqp_service_errors.js').translateError;
/** The device client's default retry policy (azure-iot-common/dist/retry_policy.js, DefaultErrorFilter). */
const retryPolicy = new (requireFromAmqpBase('azure-iot-common').ExponentialBackOffWithJitter)() as { shouldRetry(error: Error): unknown };
const sdkRhea = requireFromAmqpBase('rhea');
const { AmqpTwinClient } = require('azure-iot-device-amqp/dist/amqp_twin_client.js');

const errorClass = (error: Error) => error.constructor.name;

describe('amqpErrorFor', () => {
  // code → condition → class the device SDK raises → class the service SDK raises → device retries?
  const table: [HubErrorName, string, string, string, boolean][] = [
    ['InvalidOperation', 'amqp:not-allowed', 'InvalidOperationError', 'InvalidOperationError', false],
    ['ArgumentInvalid', 'com.microsoft:argument-error', 'ArgumentError', 'ArgumentError', false],
    ['ArgumentNull', 'com.microsoft:argument-error', 'ArgumentError', 'ArgumentError', false],
    ['IotHubFormatError', 'com.microsoft:argument-error', 'ArgumentError', 'ArgumentError', false],
    ['DeviceDefinedMultipleTimes', 'com.microsoft:argument-error', 'ArgumentError', 'ArgumentError', false],
    ['BulkRegistryOperationFailure', 'com.microsoft:argument-error', 'ArgumentError', 'ArgumentError', false],
    ['EtagDoesNotMatch', 'com.microsoft:precondition-failed', 'PreconditionFailedError', 'PreconditionFailedError', false],
    ['ConnectionForcefullyClosedOnNewConnection', 'amqp:link:stolen', 'Error', 'Error', false],
    ['InvalidDeviceScope', 'com.microsoft:argument-error', 'ArgumentError', 'ArgumentError', false],
    ['IotHubUnauthorizedAccess', 'amqp:unauthorized-access', 'UnauthorizedError', 'UnauthorizedError', false],
    ['IotHubUnauthorized', 'amqp:unauthorized-access', 'UnauthorizedError', 'UnauthorizedError', false],
    ['IotHubQuotaExceeded', 'com.microsoft:quota-exceeded', 'IotHubQuotaExceededError', 'IotHubQuotaExceededError', false],
    [
      'DeviceMaximumQueueDepthExceeded',
      'amqp:resource-limit-exceeded',
      'IotHubQuotaExceededError',
      'DeviceMaximumQueueDepthExceededError',
      false,
    ],
    [
      'DeviceMaximumActiveFileUploadLimitExceeded',
      'amqp:resource-limit-exceeded',
      'IotHubQuotaExceededError',
      'DeviceMaximumQueueDepthExceededError',
      false,
    ],
    ['GenericNotFound', 'amqp:not-found', 'DeviceNotFoundError', 'DeviceNotFoundError', false],
    ['DeviceNotFound', 'amqp:not-found', 'DeviceNotFoundError', 'DeviceNotFoundError', false],
    ['JobNotFound', 'amqp:not-found', 'DeviceNotFoundError', 'DeviceNotFoundError', false],
    ['ModuleNotFound', 'amqp:not-found', 'DeviceNotFoundError', 'DeviceNotFoundError', false],
    ['DeviceNotOnline', 'amqp:not-found', 'DeviceNotFoundError', 'DeviceNotFoundError', false],
    ['DeviceConnectionClosedRemotely', 'amqp:not-found', 'DeviceNotFoundError', 'DeviceNotFoundError', false],
    ['ConfigurationNotFound', 'amqp:not-found', 'DeviceNotFoundError', 'DeviceNotFoundError', false],
    ['GenericMethodNotAllowed', 'amqp:not-allowed', 'InvalidOperationError', 'InvalidOperationError', false],
    ['GenericConflict', 'amqp:not-allowed', 'InvalidOperationError', 'InvalidOperationError', false],
    ['DeviceAlreadyExists', 'com.microsoft:device-already-exists', 'DeviceAlreadyExistsError', 'DeviceAlreadyExistsError', false],
    ['LinkCreationConflict', 'amqp:link:stolen', 'Error', 'Error', false],
    ['JobAlreadyExists', 'com.microsoft:device-already-exists', 'DeviceAlreadyExistsError', 'DeviceAlreadyExistsError', false],
    ['ModuleAlreadyExistsOnDevice', 'com.microsoft:device-already-exists', 'DeviceAlreadyExistsError', 'DeviceAlreadyExistsError', false],
    ['ConfigurationAlreadyExists', 'com.microsoft:device-already-exists', 'DeviceAlreadyExistsError', 'DeviceAlreadyExistsError', false],
    ['PreconditionFailed', 'com.microsoft:precondition-failed', 'PreconditionFailedError', 'PreconditionFailedError', false],
    ['DeviceMessageLockLost', 'com.microsoft:message-lock-lost', 'DeviceMessageLockLostError', 'DeviceMessageLockLostError', false],
    ['GenericRequestEntityTooLarge', 'amqp:link:message-size-exceeded', 'MessageTooLargeError', 'MessageTooLargeError', false],
    ['MessageTooLarge', 'amqp:link:message-size-exceeded', 'MessageTooLargeError', 'MessageTooLargeError', false],
    ['TooManyDevices', 'com.microsoft:argument-out-of-range', 'ArgumentOutOfRangeError', 'ArgumentOutOfRangeError', false],
    ['TooManyModulesOnDevice', 'com.microsoft:argument-out-of-range', 'ArgumentOutOfRangeError', 'ArgumentOutOfRangeError', false],
    ['GenericUnsupportedMediaType', 'com.microsoft:argument-error', 'ArgumentError', 'ArgumentError', false],
    ['ThrottlingException', 'com.microsoft:device-container-throttled', 'ThrottlingError', 'ThrottlingError', true],
    ['ServerError', 'amqp:internal-error', 'InternalServerError', 'InternalServerError', true],
    ['ServiceUnavailable', 'amqp:link:detach-forced', 'ServiceUnavailableError', 'ServiceUnavailableError', true],
    ['GatewayTimeout', 'com.microsoft:timeout', 'ServiceUnavailableError', 'ServiceUnavailableError', true],
  ];

  test('the table covers every HubError code', () => {
    expect(table.map(([code]) => code).sort()).toEqual((Object.keys(HubErrorCode) as HubErrorName[]).sort());
  });

  test.each(table)('%s → %s, raised by the device SDK as %s and by the service SDK as %s', (code, condition, deviceClass, serviceClass, isRetried) => {
    const amqpError = amqpErrorFor(new HubError(code, `why ${code} happened`));
    expect(amqpError).toEqual({ condition, description: `why ${code} happened` });
    const deviceError = deviceTranslate('AMQP Transport: Could not send', amqpError);
    expect(errorClass(deviceError)).toBe(deviceClass);
    expect(errorClass(serviceTranslate('AMQP Transport: Could not send message', amqpError))).toBe(serviceClass);
    expect(retryPolicy.shouldRetry(deviceError) === true).toBe(isRetried);
  });

  test('every condition in AmqpCondition except link:stolen is one the SDK translates to a named error', () => {
    for (const condition of Object.values(AmqpCondition).filter((c) => c !== AmqpCondition.LinkStolen)) {
      expect(errorClass(deviceTranslate('x', { condition, description: '' }))).not.toBe('Error');
    }
  });

  test('a failure that is not a HubError is amqp:internal-error and its message stays inside the hub', () => {
    const amqpError = amqpErrorFor(new TypeError('cannot read properties of undefined (secret-table)'));
    expect(amqpError).toEqual({ condition: 'amqp:internal-error', description: 'The hub failed to process the request' });
    expect(amqpErrorFor('a string')).toEqual(amqpError);
  });
});

describe('twinStatusFor and twinErrorResponse', () => {
  // code → status annotation → error class the SDK's twin client builds from the response
  const table: [HubErrorName, number, string][] = [
    ['ArgumentInvalid', 400, 'FormatError'],
    ['IotHubFormatError', 400, 'FormatError'],
    ['IotHubUnauthorized', 401, 'UnauthorizedError'],
    ['InvalidOperation', 400, 'FormatError'],
    ['IotHubQuotaExceeded', 403, 'InvalidOperationError'],
    ['DeviceNotFound', 404, 'DeviceNotFoundError'],
    ['ModuleNotFound', 404, 'DeviceNotFoundError'],
    ['PreconditionFailed', 412, 'TwinRequestError'],
    ['MessageTooLarge', 413, 'TwinRequestError'],
    ['ThrottlingException', 429, 'ThrottlingError'],
    ['ServerError', 500, 'InternalServerError'],
    ['ServiceUnavailable', 503, 'ServiceUnavailableError'],
    ['GatewayTimeout', 504, 'TimeoutError'],
  ];

  test.each(table)('%s is twin status %d, which the SDK twin client reads as %s', (code, status, sdkClass) => {
    const error = new HubError(code, `twin failed: ${code}`);
    expect(twinStatusFor(error)).toBe(status);
    const response = twinErrorResponse(error);
    expect(response).toEqual({ status, body: { errorCode: HubErrorCode[code], message: `twin failed: ${code}` } });
    const onWire = sdkRhea.message.decode(rhea.message.encode(twinResponseToAmqp({ correlationId: 'c1', ...response })));
    const sdkError = AmqpTwinClient.prototype._translateErrorResponse.call({}, onWire) as Error;
    expect(errorClass(sdkError)).toBe(sdkClass);
  });

  test("the SDK's final twin error carries the hub's message text", () => {
    const response = twinErrorResponse(new HubError('DeviceNotFound', "Device 'd1' is not registered"));
    const onWire = sdkRhea.message.decode(rhea.message.encode(twinResponseToAmqp({ correlationId: 'c1', ...response })));
    const twinError = AmqpTwinClient.prototype._translateErrorResponse.call({}, onWire);
    // What the transport's handleResult does with it (azure-iot-device-amqp/dist/amqp.js):
    expect(deviceTranslate('could not get twin', twinError).message).toBe("could not get twin. Device 'd1' is not registered");
  });

  test('a failure that is not a HubError is status 500 with a generic message', () => {
    expect(twinStatusFor(new Error('boom'))).toBe(500);
    expect(twinErrorResponse(new Error('boom'))).toEqual({
      status: 500,
      body: { errorCode: 500001, message: 'The hub failed to process the request' },
    });
  });
});
