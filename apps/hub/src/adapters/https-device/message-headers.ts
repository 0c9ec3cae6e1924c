/**
 * Messages on the HTTPS device API (azure-wire-protocol.md §6): the request headers of a single
 * event and the elements of a batch (`application/vnd.microsoft.iothub.json`) as core's
 * TelemetryMessage, and a locked cloud-to-device message as response headers. Property names
 * are matched case-insensitively, as HTTP header names are. What a message may contain (size,
 * output names) is the session's rule; the batch is checked here as well because it must be
 * refused whole, before any of it is sent.
 * @module
 */

import {
  argumentInvalid,
  type DeviceSetSystemProperties,
  type LockedCloudToDeviceMessage,
  MAX_TELEMETRY_BYTES,
  messageTooLarge,
  type TelemetryMessage,
} from '@tributary/core';

/** The Content-Type of a batch send. */
export const BATCH_CONTENT_TYPE = 'application/vnd.microsoft.iothub.json';
/** IoT Hub's limit on messages in one HTTPS batch. */
export const MAX_BATCH_MESSAGES = 500;
/**
 * The batch request itself, before decoding: 256 KB of messages grow by a third in base64 plus
 * JSON framing per message, so twice the message limit leaves room for any batch that can pass.
 */
export const MAX_BATCH_REQUEST_BYTES = 2 * MAX_TELEMETRY_BYTES;

/** Application properties travel as `iothub-app-<name>`; HTTP lower-cases header names. */
export const APP_PROPERTY_PREFIX = 'iothub-app-';

/**
 * Headers (and batch property names) of the system properties a device may set. `dt-subject`
 * has no prefix: the SDK sends the message property of that name as it is. `IoTHub-Ack` has no
 * meaning on a device-to-cloud message and is ignored, like any other unknown header.
 */
const SYSTEM_PROPERTY_NAMES: Readonly<Record<string, keyof DeviceSetSystemProperties>> = {
  'iothub-messageid': 'message-id',
  'iothub-correlationid': 'correlation-id',
  'iothub-userid': 'user-id',
  'iothub-to': 'to',
  'iothub-expiry': 'absolute-expiry-time',
  'iothub-contenttype': 'content-type',
  'iothub-contentencoding': 'content-encoding',
  'iothub-interface-id': 'iothub-interface-id',
  'dt-subject': 'dt-subject',
};

/**
 * The properties named by `entries` (header or batch property names, any case). `eventsAddress`
 * is the request's own `/devices/{id}/messages/events`: the SDK sends it in `iothub-to` on every
 * request as addressing, so only a different `to` is a property of the message.
 */
function propertiesOf(
  entries: Iterable<[string, string]>,
  eventsAddress: string,
): Pick<TelemetryMessage, 'systemProperties' | 'applicationProperties'> {
  const systemProperties: DeviceSetSystemProperties = {};
  const applicationProperties: Record<string, string> = {};
  for (const [rawName, value] of entries) {
    const name = rawName.toLowerCase();
    if (name.startsWith(APP_PROPERTY_PREFIX)) {
      if (name.length > APP_PROPERTY_PREFIX.length) applicationProperties[name.slice(APP_PROPERTY_PREFIX.length)] = value;
      continue;
    }
    const property = SYSTEM_PROPERTY_NAMES[name];
    if (property === undefined || value === '') continue;
    if (property === 'to' && isSameAddress(value, eventsAddress)) continue;
    systemProperties[property] = value;
  }
  return { systemProperties, applicationProperties };
}

function isSameAddress(value: string, address: string): boolean {
  try {
    return decodeURIComponent(value).toLowerCase() === address.toLowerCase();
  } catch {
    return false;
  }
}

/** `/devices/{deviceId}/messages/events` (decoded), what the SDK puts in `iothub-to`. */
export const eventsAddressOf = (deviceId: string) => `/devices/${deviceId}/messages/events`;

/** A single event: the raw request body and the message's properties from the request headers. */
export function telemetryFromHeaders(headers: Headers, body: Uint8Array, deviceId: string): TelemetryMessage {
  return { body, ...propertiesOf(headers.entries(), eventsAddressOf(deviceId)) };
}

const textEncoder = new TextEncoder();
const utf8Bytes = (text: string) => textEncoder.encode(text).byteLength;

/**
 * A message's size as IoT Hub counts it against the 256 KB limit (the session counts the same):
 * the body, the values of the system properties, the names and values of application properties.
 */
export function telemetrySizeBytes(message: TelemetryMessage): number {
  let size = message.body.byteLength;
  for (const value of Object.values(message.systemProperties)) size += utf8Bytes(String(value ?? ''));
  for (const [name, value] of Object.entries(message.applicationProperties)) size += utf8Bytes(name) + utf8Bytes(value);
  return size;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * One element of a batch: `{"body": "<base64>", "properties": {"iothub-app-k": "v", …}}`.
 * `base64Encoded: false` (sent by some SDKs) means the body is the text itself.
 */
function batchElement(element: unknown, index: number, eventsAddress: string): TelemetryMessage {
  const refuse = (what: string) => argumentInvalid(`Message ${index} of the batch ${what}`);
  if (!isPlainObject(element)) throw refuse('is not a JSON object');
  const { body, properties = {}, base64Encoded = true } = element;
  if (typeof body !== 'string') throw refuse("has no string 'body'");
  if (typeof base64Encoded !== 'boolean') throw refuse("has a 'base64Encoded' that is not true or false");
  if (base64Encoded && !BASE64.test(body)) throw refuse("has a 'body' that is not valid base64");
  if (!isPlainObject(properties)) throw refuse("has 'properties' that are not a JSON object");
  const entries: [string, string][] = [];
  for (const [name, value] of Object.entries(properties)) {
    if (typeof value !== 'string') throw refuse(`has property '${name}' whose value is not a string`);
    entries.push([name, value]);
  }
  const bytes = base64Encoded ? new Uint8Array(Buffer.from(body, 'base64')) : textEncoder.encode(body);
  return { body: bytes, ...propertiesOf(entries, eventsAddress) };
}

/**
 * Every message of a batch, or the reason the whole batch is refused: malformed JSON or element
 * (ArgumentInvalid), no messages or more than 500 (ArgumentInvalid), more than 256 KB of
 * messages in all (MessageTooLarge). Nothing is sent unless every element passes.
 */
export function telemetryFromBatch(text: string, deviceId: string): TelemetryMessage[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw argumentInvalid(`The batch is not valid JSON: ${(error as Error).message}`, error);
  }
  if (!Array.isArray(parsed)) throw argumentInvalid('The batch must be a JSON array of messages');
  if (parsed.length === 0) throw argumentInvalid('The batch holds no messages');
  if (parsed.length > MAX_BATCH_MESSAGES) {
    throw argumentInvalid(`The batch holds ${parsed.length} messages, more than the ${MAX_BATCH_MESSAGES} allowed`);
  }
  const eventsAddress = eventsAddressOf(deviceId);
  const messages = parsed.map((element, index) => batchElement(element, index, eventsAddress));
  const totalBytes = messages.reduce((sum, message) => sum + telemetrySizeBytes(message), 0);
  if (totalBytes > MAX_TELEMETRY_BYTES) throw messageTooLarge(MAX_TELEMETRY_BYTES);
  return messages;
}

/** Is this the Content-Type of a batch (any case, parameters allowed)? */
export const isBatchContentType = (contentType: string | undefined) =>
  contentType !== undefined && contentType.split(';')[0]!.trim().toLowerCase() === BATCH_CONTENT_TYPE;

// Hub → device: a locked cloud-to-device message as the 200 response of `GET …/messages/devicebound`.

/** RFC 9110 `token` characters: what a header name may hold. */
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
/** Visible ASCII and space: what a header value may hold everywhere (no obs-text, no controls). */
const VALUE_CHAR = /[\x20-\x7e]/;

/**
 * Percent-encodes (UTF-8) every character `isAllowed` refuses. HTTP headers cannot carry every
 * property IoT Hub accepts over MQTT and AMQP (names with spaces, values with non-ASCII text); such
 * properties arrive encoded instead of being dropped or breaking the response.
 */
function headerSafe(text: string, isAllowed: RegExp): string {
  let result = '';
  for (const char of text) {
    result += isAllowed.test(char)
      ? char
      : [...textEncoder.encode(char)].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
  return result;
}

/**
 * The response headers of a received message. What the SDK's `Http` transport reads
 * (azure-iot-http-base `toMessage`): `ETag` (the lock token, quoted; the SDK strips the quotes),
 * `iothub-messageid`, `iothub-to`, `iothub-expiry`, `iothub-correlationid` and `iothub-app-*`
 * (kept with the prefix as the property name). Also sent, as IoT Hub does: `iothub-userid`,
 * `iothub-sequencenumber`, `iothub-enqueuedtime`, `iothub-deliverycount` (earlier deliveries, as
 * AMQP's delivery-count: 0 on the first), `iothub-ack`, `iothub-contenttype`, `iothub-contentencoding`.
 * Times are ISO-8601 UTC; `iothub-expiry` is the effective expiry.
 */
export function c2dResponseHeaders(message: LockedCloudToDeviceMessage): Record<string, string> {
  const system = message.systemProperties;
  const optional: [string, string | undefined][] = [
    ['iothub-to', system.to],
    ['iothub-correlationid', system['correlation-id']],
    ['iothub-userid', system['user-id']],
    ['iothub-contenttype', system['content-type']],
    ['iothub-contentencoding', system['content-encoding']],
  ];
  const headers: Record<string, string> = {
    etag: `"${message.lockToken}"`,
    'content-type': 'application/octet-stream',
    'iothub-messageid': headerSafe(message.messageId, VALUE_CHAR),
    'iothub-sequencenumber': String(message.sequenceNumber),
    'iothub-enqueuedtime': new Date(message.enqueuedTime).toISOString(),
    'iothub-expiry': new Date(message.expiryTime).toISOString(),
    'iothub-deliverycount': String(Math.max(0, message.deliveryCount - 1)),
    'iothub-ack': message.ack,
  };
  for (const [name, value] of optional) if (value !== undefined) headers[name] = headerSafe(value, VALUE_CHAR);
  for (const [name, value] of Object.entries(message.applicationProperties)) {
    // The queue keeps the ack mode among the application properties; HTTP has its own header.
    if (name.toLowerCase() === 'iothub-ack') continue;
    headers[`${APP_PROPERTY_PREFIX}${headerSafe(name, TOKEN_CHAR)}`] = headerSafe(value, VALUE_CHAR);
  }
  return headers;
}
