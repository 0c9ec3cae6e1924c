/**
 * The one error vocabulary of the hub: IoT Hub's named six-digit error codes and `HubError`.
 * Core throws only `HubError` for expected outcomes; each protocol adapter has exactly one mapper
 * from `HubError` to its wire format. Messages must be safe to show a client.
 *
 * Codes and names are IoT Hub's own ("IoT Hub API common error codes"); the HTTP status is the
 * first three digits.
 * @module
 */

export const HubErrorCode = {
  InvalidOperation: 400003,
  ArgumentInvalid: 400004,
  ArgumentNull: 400005,
  IotHubFormatError: 400006,
  DeviceDefinedMultipleTimes: 400011,
  BulkRegistryOperationFailure: 400013,
  EtagDoesNotMatch: 400023,
  ConnectionForcefullyClosedOnNewConnection: 400027,
  InvalidDeviceScope: 400028,
  IotHubUnauthorizedAccess: 401002,
  IotHubUnauthorized: 401003,
  IotHubQuotaExceeded: 403002,
  DeviceMaximumQueueDepthExceeded: 403004,
  DeviceMaximumActiveFileUploadLimitExceeded: 403006,
  GenericNotFound: 404000,
  DeviceNotFound: 404001,
  JobNotFound: 404002,
  ModuleNotFound: 404010,
  DeviceNotOnline: 404103,
  DeviceConnectionClosedRemotely: 404104,
  ConfigurationNotFound: 404301,
  GenericMethodNotAllowed: 405000,
  GenericConflict: 409000,
  DeviceAlreadyExists: 409001,
  LinkCreationConflict: 409002,
  JobAlreadyExists: 409104,
  ModuleAlreadyExistsOnDevice: 409301,
  ConfigurationAlreadyExists: 409401,
  PreconditionFailed: 412001,
  DeviceMessageLockLost: 412002,
  GenericRequestEntityTooLarge: 413000,
  MessageTooLarge: 413001,
  TooManyDevices: 413002,
  TooManyModulesOnDevice: 413003,
  GenericUnsupportedMediaType: 415000,
  ThrottlingException: 429001,
  ServerError: 500001,
  ServiceUnavailable: 503001,
  GatewayTimeout: 504101,
} as const;

export type HubErrorName = keyof typeof HubErrorCode;

/** An expected failure, carrying IoT Hub's error name; `status` and `numericCode` derive from it. */
export class HubError extends Error {
  override readonly name = 'HubError';

  constructor(
    readonly code: HubErrorName,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** IoT Hub's six-digit code, e.g. 404001. */
  get numericCode(): number {
    return HubErrorCode[this.code];
  }

  /** The HTTP status: the first three digits of the code. */
  get status(): number {
    return Math.floor(this.numericCode / 1000);
  }
}

export function isHubError(value: unknown): value is HubError {
  return value instanceof HubError;
}

// One small factory per outcome, so every message for a code is worded in one place.

export const argumentInvalid = (message: string, cause?: unknown) =>
  new HubError('ArgumentInvalid', message, { cause });
export const formatError = (message: string, cause?: unknown) =>
  new HubError('IotHubFormatError', message, { cause });
export const invalidOperation = (message: string) => new HubError('InvalidOperation', message);
export const deviceDefinedMultipleTimes = (deviceId: string) =>
  new HubError('DeviceDefinedMultipleTimes', `Device '${deviceId}' appears more than once in the request`);
export const invalidDeviceScope = (message: string) => new HubError('InvalidDeviceScope', message);
export const unauthorizedAccess = (message = 'Unauthorized') =>
  new HubError('IotHubUnauthorizedAccess', message);
export const deviceNotFound = (deviceId: string) =>
  new HubError('DeviceNotFound', `Device '${deviceId}' is not registered`);
export const moduleNotFound = (deviceId: string, moduleId: string) =>
  new HubError('ModuleNotFound', `Module '${moduleId}' is not registered on device '${deviceId}'`);
export const notFound = (what: string) => new HubError('GenericNotFound', `${what} was not found`);
export const methodNotAllowed = (method: string, path: string) =>
  new HubError('GenericMethodNotAllowed', `${method} is not allowed on ${path}`);
export const deviceAlreadyExists = (deviceId: string) =>
  new HubError('DeviceAlreadyExists', `A device with ID '${deviceId}' is already registered`);
export const moduleAlreadyExists = (deviceId: string, moduleId: string) =>
  new HubError(
    'ModuleAlreadyExistsOnDevice',
    `A module with ID '${moduleId}' is already registered on device '${deviceId}'`,
  );
export const preconditionFailed = (what: string) =>
  new HubError('PreconditionFailed', `The ETag given in If-Match does not match the current ETag of ${what}`);
export const requestEntityTooLarge = (maxBytes: number) =>
  new HubError('GenericRequestEntityTooLarge', `The request body is larger than ${maxBytes} bytes`);
export const unsupportedMediaType = (contentType: string) =>
  new HubError('GenericUnsupportedMediaType', `Content-Type '${contentType}' is not supported here, send application/json`);
export const tooManyDevices = (max: number) =>
  new HubError('TooManyDevices', `The request lists more than ${max} devices`);
export const serverError = (cause?: unknown) =>
  new HubError('ServerError', 'The hub failed to process the request', { cause });
export const deviceNotOnline = (target: string) =>
  new HubError('DeviceNotOnline', `${target} is not connected or has not subscribed to direct methods`);
export const deviceConnectionClosed = (target: string) =>
  new HubError('DeviceConnectionClosedRemotely', `The connection of ${target} closed before it answered`);
export const gatewayTimeout = (what: string) => new HubError('GatewayTimeout', `Timed out waiting for ${what}`);
export const messageTooLarge = (maxBytes: number) =>
  new HubError('MessageTooLarge', `The message is larger than ${maxBytes} bytes (body and properties)`);
export const deviceUnauthorized = (message: string) => new HubError('IotHubUnauthorized', message);
