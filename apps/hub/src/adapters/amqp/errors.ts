/**
 * The AMQP adapter's one error mapper: HubError → the `{condition, description}` of an AMQP error
 * (a rejected disposition, a detach, a close), and → the twin response `status` annotation with
 * its JSON body. The conditions are the ones the Node SDKs decode (azure-wire-protocol.md §5.4,
 * azure-iot-amqp-base `amqp_common_errors.js` and azure-iothub `amqp_service_errors.js`).
 * Deciding *when* to reject, detach or close belongs to the links, not here.
 * @module
 */

import { HubErrorCode, isHubError, type HubErrorName } from '@tributary/core';

export interface AmqpErrorDescription {
  condition: string;
  description: string;
}

/** AMQP 1.0 core conditions and Microsoft's extensions that the SDKs translate. */
export const AmqpCondition = {
  UnauthorizedAccess: 'amqp:unauthorized-access',
  NotFound: 'amqp:not-found',
  NotAllowed: 'amqp:not-allowed',
  ResourceLimitExceeded: 'amqp:resource-limit-exceeded',
  InternalError: 'amqp:internal-error',
  MessageSizeExceeded: 'amqp:link:message-size-exceeded',
  DetachForced: 'amqp:link:detach-forced',
  LinkStolen: 'amqp:link:stolen',
  ArgumentError: 'com.microsoft:argument-error',
  ArgumentOutOfRange: 'com.microsoft:argument-out-of-range',
  DeviceAlreadyExists: 'com.microsoft:device-already-exists',
  Throttled: 'com.microsoft:device-container-throttled',
  MessageLockLost: 'com.microsoft:message-lock-lost',
  PreconditionFailed: 'com.microsoft:precondition-failed',
  QuotaExceeded: 'com.microsoft:quota-exceeded',
  Timeout: 'com.microsoft:timeout',
} as const;

const C = AmqpCondition;

/**
 * Every HubError name has a condition, so a new code cannot ship unmapped. Where the SDKs differ
 * the choice is made for both: `amqp:resource-limit-exceeded` is IotHubQuotaExceededError on the
 * device side but DeviceMaximumQueueDepthExceededError on the service side, so it is kept for the
 * queue-depth case (§8) and a hub quota uses `com.microsoft:quota-exceeded` (IotHubQuotaExceededError
 * on both). ServiceUnavailable uses `amqp:link:detach-forced` and GatewayTimeout `com.microsoft:timeout`:
 * the two conditions the SDKs turn into the retried ServiceUnavailableError. A superseded
 * connection is `amqp:link:stolen` (AMQP 1.0 §2.8.15: "attached elsewhere"), which the SDK does not
 * retry, so two clients with one identity don't steal the connection back and forth.
 */
const CONDITIONS: Record<HubErrorName, string> = {
  InvalidOperation: C.NotAllowed,
  ArgumentInvalid: C.ArgumentError,
  ArgumentNull: C.ArgumentError,
  IotHubFormatError: C.ArgumentError,
  DeviceDefinedMultipleTimes: C.ArgumentError,
  BulkRegistryOperationFailure: C.ArgumentError,
  EtagDoesNotMatch: C.PreconditionFailed,
  ConnectionForcefullyClosedOnNewConnection: C.LinkStolen,
  InvalidDeviceScope: C.ArgumentError,
  IotHubUnauthorizedAccess: C.UnauthorizedAccess,
  IotHubUnauthorized: C.UnauthorizedAccess,
  IotHubQuotaExceeded: C.QuotaExceeded,
  DeviceMaximumQueueDepthExceeded: C.ResourceLimitExceeded,
  DeviceMaximumActiveFileUploadLimitExceeded: C.ResourceLimitExceeded,
  GenericNotFound: C.NotFound,
  DeviceNotFound: C.NotFound,
  JobNotFound: C.NotFound,
  ModuleNotFound: C.NotFound,
  DeviceNotOnline: C.NotFound,
  DeviceConnectionClosedRemotely: C.NotFound,
  ConfigurationNotFound: C.NotFound,
  GenericMethodNotAllowed: C.NotAllowed,
  GenericConflict: C.NotAllowed,
  DeviceAlreadyExists: C.DeviceAlreadyExists,
  LinkCreationConflict: C.LinkStolen,
  JobAlreadyExists: C.DeviceAlreadyExists,
  ModuleAlreadyExistsOnDevice: C.DeviceAlreadyExists,
  ConfigurationAlreadyExists: C.DeviceAlreadyExists,
  PreconditionFailed: C.PreconditionFailed,
  DeviceMessageLockLost: C.MessageLockLost,
  GenericRequestEntityTooLarge: C.MessageSizeExceeded,
  MessageTooLarge: C.MessageSizeExceeded,
  TooManyDevices: C.ArgumentOutOfRange,
  TooManyModulesOnDevice: C.ArgumentOutOfRange,
  GenericUnsupportedMediaType: C.ArgumentError,
  ThrottlingException: C.Throttled,
  ServerError: C.InternalError,
  ServiceUnavailable: C.DetachForced,
  GatewayTimeout: C.Timeout,
};

/** What a client is told about a failure that is not a HubError: a bug, logged by the caller. */
const INTERNAL_DESCRIPTION = 'The hub failed to process the request';

/**
 * The AMQP error for a failure: a HubError's condition and its (client-safe) message; anything
 * else is `amqp:internal-error` with a generic description, so no internal detail leaks.
 * @example
 * delivery.reject(amqpErrorFor(queueDepthExceeded(deviceId, 50)));
 * // → { condition: 'amqp:resource-limit-exceeded', description: "The cloud-to-device queue of …" }
 */
export function amqpErrorFor(error: unknown): AmqpErrorDescription {
  if (!isHubError(error)) return { condition: C.InternalError, description: INTERNAL_DESCRIPTION };
  return { condition: CONDITIONS[error.code] ?? C.InternalError, description: error.message };
}

/**
 * The `status` annotation of a failed twin response: the HubError's HTTP status. The device SDK
 * (amqp_twin_client.js `_translateErrorResponse`) knows 400 FormatError, 401 Unauthorized, 403
 * InvalidOperation, 404 DeviceNotFound, 429 Throttling, 500 InternalServer, 503 ServiceUnavailable,
 * 504 Timeout and reads anything else as TwinRequestError, which is also what IoT Hub's own 409, 412
 * and 413 twin statuses become. A non-HubError is 500.
 */
export function twinStatusFor(error: unknown): number {
  return isHubError(error) ? error.status : 500;
}

/**
 * A failed twin response: status plus a JSON body `{"errorCode":…,"message":…}` (the same shape
 * as MQTT's). The body must be present and JSON: the SDK JSON-parses the body of every response
 * with status > 300 and, when the parsed object has `message`, puts that text in the error it
 * raises (amqp_common_errors.js `translateError`).
 */
export function twinErrorResponse(error: unknown): { status: number; body: { errorCode: number; message: string } } {
  if (!isHubError(error)) return { status: 500, body: { errorCode: HubErrorCode.ServerError, message: INTERNAL_DESCRIPTION } };
  return { status: twinStatusFor(error), body: { errorCode: error.numericCode, message: error.message } };
}
