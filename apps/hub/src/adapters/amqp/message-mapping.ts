/**
 * AMQP message ⇄ core shapes (azure-wire-protocol.md §5.3 and §8): telemetry in, cloud-to-device
 * out, the service's cloud-to-device sends in, method requests out and responses in, twin requests
 * in and responses and desired patches out, feedback batches out. Pure functions over rhea
 * message objects; which link a message travels on, settlement and session calls belong to the links.
 *
 * Two wire rules run through every function (§15 items 13–14):
 * - Hub → device bodies are always a single **data section**: the SDKs read `body.content`, and an
 *   AMQP-value body yields an empty message or crashes the twin client.
 * - Message and correlation ids arrive as strings, numbers or AMQP uuids (rhea gives a uuid as a
 *   16-byte Buffer; the Node SDK sends any lower-case v1–v5 UUID string that way), so they are
 *   normalised to canonical strings before anything correlates on them.
 * @module
 */

import {
  ACK_PROPERTY,
  argumentInvalid,
  FEEDBACK_CONTENT_TYPE,
  feedbackBatchBody,
  formatError,
  type C2dDelivery,
  type C2dSystemProperties,
  type CloudToDeviceMessageInput,
  type DeviceSetSystemProperties,
  type FeedbackRecord,
  type JsonObject,
  type JsonValue,
  type MethodRequest,
  type TelemetryMessage,
} from '@tributary/core';
import rhea, { type Message, type Typed } from 'rhea';

// ---------------------------------------------------------------------------------------------
// Ids

/** A message or correlation id as rhea hands it over or accepts it. */
export type AmqpMessageId = string | number | Buffer | Uint8Array | Typed;

/**
 * The UUID shape the Node SDK sends as an AMQP uuid (azure-iot-amqp-base `amqp_message.js`
 * `encodeUuid`). Lower case only, so a uuid-typed id turns back into exactly the same string.
 */
const SDK_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * An id to send: a 16-byte Buffer (which rhea encodes as an AMQP `uuid`, 0x98) when `text` has
 * the SDK's UUID shape, else the string. Ids the hub sends are typed as IoT Hub and the SDK type
 * them; the SDK turns either form back into the same string.
 */
export function wrapMessageId(text: string): string | Buffer {
  return SDK_UUID.test(text) ? rhea.string_to_uuid(text) : text;
}

const isTyped = (value: object): value is Typed => 'type' in value && 'value' in value && typeof (value as Typed).type === 'object';

/**
 * The canonical string form of an id as received: strings as they are, numbers (ulong) in
 * decimal, a 16-byte binary (an AMQP uuid, as rhea decodes it) as a lower-case UUID, any other
 * binary as upper-case hex (what Microsoft.Azure.Amqp's `MessageIdBinary.ToString()` gives).
 * Undefined and null stay undefined.
 */
export function normaliseMessageId(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value instanceof Uint8Array) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return bytes.length === 16 ? rhea.uuid_to_string(bytes) : bytes.toString('hex').toUpperCase();
  }
  if (typeof value === 'object' && isTyped(value)) return normaliseMessageId(value.value);
  return String(value);
}

// ---------------------------------------------------------------------------------------------
// Bodies and property values

/** rhea's (unexported) body-section class: what `data_section`, `sequence_section` and decode build. */
const Section = (rhea.message.data_section(Buffer.alloc(0)) as object).constructor;
const DATA_SECTION = 0x75;
const SEQUENCE_SECTION = 0x76;

interface BodySection {
  typecode: number;
  content: unknown;
  multiple?: boolean;
}

const isSection = (body: unknown): body is BodySection => typeof body === 'object' && body !== null && body.constructor === Section;

/** JSON that survives what AMQP can carry and JSON cannot: bigints (large longs) become strings. */
const jsonText = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null';

const toBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * The body as bytes, whatever section carried it: data section(s) concatenated; an AMQP value
 * that is binary as is, a string as UTF-8, anything else (and an amqp-sequence) as JSON text; no
 * body (rhea decodes an absent body as a null value) as no bytes.
 */
function bodyBytes(body: unknown): Uint8Array {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (isSection(body)) {
    if (body.typecode === DATA_SECTION) {
      const parts = (body.multiple ? body.content : [body.content]) as Uint8Array[];
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    }
    if (body.typecode === SEQUENCE_SECTION) return Buffer.from(jsonText(body.content), 'utf8');
  }
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(jsonText(body), 'utf8');
}

const dataSection = (bytes: Uint8Array): unknown => rhea.message.data_section(toBuffer(bytes));
const jsonDataSection = (value: unknown): unknown => rhea.message.data_section(Buffer.from(jsonText(value), 'utf8'));

/** An application property or annotation value as the string core keeps (IoT Hub properties are strings). */
function propertyText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return toBuffer(value).toString('utf8');
  return jsonText(value);
}

function optionalText(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : propertyText(value);
}

/** `absolute_expiry_time` (rhea 3 decodes a timestamp as a Date, older rheas as epoch ms) → ISO. */
function isoTime(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const date = value instanceof Date ? value : typeof value === 'number' ? new Date(value) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined;
}

function dateOf(iso: string | undefined): Date | undefined {
  if (iso === undefined) return undefined;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function stringProperties(properties: Record<string, unknown> | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(properties ?? {})) result[key] = propertyText(value);
  return result;
}

/** Copies the defined entries only, so optional properties are absent rather than `undefined`. */
function defined<T extends object>(entries: { [K in keyof T]: T[K] | undefined }): T {
  const result = {} as T;
  for (const [key, value] of Object.entries(entries)) {
    if (value !== undefined) (result as Record<string, unknown>)[key] = value;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Telemetry (device → hub)

/** The module output name: an application property on the wire, a system property in core. */
const OUTPUT_NAME_PROPERTY = 'iothub-outputname';

/**
 * A D2C message from a device or module sender link (§5.3): properties → IoT Hub system
 * properties, application properties → strings (`iothub-outputname` becomes a system property),
 * the `dt-subject` and `iothub-interface-id` annotations → system properties.
 */
export function telemetryFromAmqp(message: Message): TelemetryMessage {
  const { [OUTPUT_NAME_PROPERTY]: outputName, ...applicationProperties } = stringProperties(message.application_properties);
  const annotations = message.message_annotations ?? {};
  const systemProperties = defined<DeviceSetSystemProperties>({
    'message-id': normaliseMessageId(message.message_id),
    'correlation-id': normaliseMessageId(message.correlation_id),
    'user-id': optionalText(message.user_id),
    to: optionalText(message.to),
    'content-type': optionalText(message.content_type),
    'content-encoding': optionalText(message.content_encoding),
    'absolute-expiry-time': isoTime(message.absolute_expiry_time),
    'iothub-interface-id': optionalText(annotations['iothub-interface-id']),
    'dt-subject': optionalText(annotations['dt-subject']),
    'iothub-outputname': outputName,
  });
  return { body: bodyBytes(message.body), systemProperties, applicationProperties };
}

// ---------------------------------------------------------------------------------------------
// Cloud-to-device (hub → device, service → hub)

/** Annotation naming the input a routed message arrives on at a module (§5.3). */
const INPUT_NAME_ANNOTATION = 'x-opt-input-name';

/**
 * A C2D delivery for the device's `/messages/devicebound` receiver: system properties → AMQP
 * properties (`message_id` uuid-typed when UUID-shaped), application properties as they are
 * (including `iothub-ack`, which the SDK surfaces as `message.ack`), body as a data section. The
 * lock token is the delivery itself: the SDK settles through the delivery (accepted, rejected,
 * released), so no lock-token annotation is needed. `header.delivery_count` counts earlier
 * deliveries, as AMQP defines it.
 */
export function c2dToAmqp(delivery: C2dDelivery, options: { inputName?: string } = {}): Message {
  const system = delivery.systemProperties;
  const correlationId = system['correlation-id'];
  const message: Message = {
    ...defined<Partial<Message>>({
      message_id: wrapMessageId(delivery.messageId),
      correlation_id: correlationId === undefined ? undefined : wrapMessageId(correlationId),
      to: system.to,
      user_id: system['user-id'],
      content_type: system['content-type'],
      content_encoding: system['content-encoding'],
      absolute_expiry_time: dateOf(system['absolute-expiry-time']),
      delivery_count: delivery.deliveryCount > 1 ? delivery.deliveryCount - 1 : undefined,
    }),
    application_properties: { ...delivery.applicationProperties },
    body: dataSection(delivery.body),
  };
  if (options.inputName !== undefined) message.message_annotations = { [INPUT_NAME_ANNOTATION]: options.inputName };
  return message;
}

/** `to` of a service send: `/devices/{encodeURIComponent(deviceId)}/messages/devicebound`, any case (§8). */
const DEVICE_BOUND_TO = /^\/devices\/([^/]+)\/messages\/devicebound$/i;

/**
 * A message the service client sends on `/messages/devicebound` (§8): the device from `to`
 * (missing, malformed or not a device-bound address fails with ArgumentInvalid), the properties a
 * service may set, `iothub-ack` as the ack mode, the other application properties as strings.
 * Validation of the send itself (ack value, size, expiry) is core's `prepareCloudToDeviceMessage`.
 */
export function c2dSendFromAmqp(message: Message): { deviceId: string; input: CloudToDeviceMessageInput } {
  const to = optionalText(message.to);
  const match = to === undefined ? null : DEVICE_BOUND_TO.exec(to);
  if (!match) throw argumentInvalid(`A cloud-to-device message needs 'to' = /devices/{deviceId}/messages/devicebound, got '${to ?? ''}'`);
  let deviceId: string;
  try {
    deviceId = decodeURIComponent(match[1]!);
  } catch (cause) {
    throw argumentInvalid(`The device id in 'to' holds a malformed percent-encoding: '${to}'`, cause);
  }
  const { [ACK_PROPERTY]: ack, ...applicationProperties } = stringProperties(message.application_properties);
  const systemProperties = defined<Omit<C2dSystemProperties, 'to'>>({
    'message-id': normaliseMessageId(message.message_id),
    'correlation-id': normaliseMessageId(message.correlation_id),
    'user-id': optionalText(message.user_id),
    'content-type': optionalText(message.content_type),
    'content-encoding': optionalText(message.content_encoding),
    'absolute-expiry-time': isoTime(message.absolute_expiry_time),
  });
  const input: CloudToDeviceMessageInput = { body: bodyBytes(message.body), systemProperties, applicationProperties };
  if (ack !== undefined) input.ack = ack;
  return { deviceId, input };
}

// ---------------------------------------------------------------------------------------------
// Direct methods

const METHOD_NAME_PROPERTY = 'IoThub-methodname';
const METHOD_STATUS_PROPERTY = 'IoThub-status';

/**
 * A method request for the device's methods receiver (§5.3): `IoThub-methodname`, the request id
 * as `correlation_id` (a string; the SDK echoes it), the payload as JSON text in a data section —
 * `null` when there is none, never an empty body.
 */
export function methodRequestToAmqp(request: MethodRequest): Message {
  return {
    correlation_id: request.requestId,
    application_properties: { [METHOD_NAME_PROPERTY]: request.methodName },
    body: jsonDataSection(request.payload ?? null),
  };
}

export interface MethodResponse {
  requestId: string;
  status: number;
  payload: JsonValue;
}

/** Body text → JSON; empty → null; text that is not JSON is kept as a string (IoT Hub relays it). */
function payloadOf(body: unknown): JsonValue {
  const text = Buffer.from(bodyBytes(body)).toString('utf8');
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

function propertyIgnoringCase(properties: Record<string, unknown> | undefined, name: string): unknown {
  if (!properties) return undefined;
  if (name in properties) return properties[name];
  const lower = name.toLowerCase();
  const key = Object.keys(properties).find((candidate) => candidate.toLowerCase() === lower);
  return key === undefined ? undefined : properties[key];
}

/**
 * A method response from the device's methods sender (§5.3): the request id from `correlation_id`
 * (the SDK re-types a UUID-shaped id as an AMQP uuid, so it is normalised), the status from the
 * `IoThub-status` application property (an int; a decimal string is accepted), the body JSON.
 * No correlation id or no integer status fails with ArgumentInvalid.
 */
export function methodResponseFromAmqp(message: Message): MethodResponse {
  const requestId = normaliseMessageId(message.correlation_id);
  if (requestId === undefined || requestId === '') throw argumentInvalid('A method response needs the request id as correlation_id');
  const raw = propertyIgnoringCase(message.application_properties, METHOD_STATUS_PROPERTY);
  const status = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(status)) {
    throw argumentInvalid(`A method response needs an integer ${METHOD_STATUS_PROPERTY} application property, got '${propertyText(raw)}'`);
  }
  return { requestId, status, payload: payloadOf(message.body) };
}

// ---------------------------------------------------------------------------------------------
// Twins

export type TwinOperation = 'GET' | 'PATCH' | 'PUT' | 'DELETE';
const TWIN_OPERATIONS: readonly TwinOperation[] = ['GET', 'PATCH', 'PUT', 'DELETE'];

export interface TwinRequest {
  operation: TwinOperation;
  /** Absent for GET; `/properties/reported` for PATCH; `/notifications/twin/properties/desired` for PUT/DELETE. */
  resource?: string;
  /** The correlation id as a canonical string, for logs and bookkeeping. */
  correlationId: string;
  /** The correlation id exactly as received: echo this in the response (see `twinResponseToAmqp`). */
  rawCorrelationId: AmqpMessageId;
  /** The reported-properties patch of a PATCH. */
  body?: JsonObject;
}

/**
 * A request on the device's twin sender (§5.3): annotations `operation` and `resource`,
 * `correlation_id`, and for PATCH a JSON-object body. An unknown operation or a missing
 * correlation id fails with ArgumentInvalid; a PATCH body that is not a JSON object with
 * IotHubFormatError. Bodies of the other operations (the SDK sends `" "`) are ignored. Whether
 * the resource fits the operation is for the twin link to judge.
 */
export function twinRequestFromAmqp(message: Message): TwinRequest {
  const annotations = message.message_annotations ?? {};
  const operation = propertyText(annotations.operation).toUpperCase() as TwinOperation;
  if (!TWIN_OPERATIONS.includes(operation)) {
    throw argumentInvalid(`A twin request needs an 'operation' annotation of ${TWIN_OPERATIONS.join(', ')}, got '${propertyText(annotations.operation)}'`);
  }
  const rawCorrelationId = message.correlation_id as AmqpMessageId | undefined;
  const correlationId = normaliseMessageId(rawCorrelationId);
  if (rawCorrelationId === undefined || correlationId === undefined || correlationId === '') {
    throw argumentInvalid('A twin request needs a correlation_id');
  }
  const request: TwinRequest = { operation, correlationId, rawCorrelationId };
  const resource = optionalText(annotations.resource);
  if (resource !== undefined) request.resource = resource;
  if (operation === 'PATCH') request.body = patchOf(message.body);
  return request;
}

function patchOf(body: unknown): JsonObject {
  const text = Buffer.from(bodyBytes(body)).toString('utf8');
  let patch: unknown;
  try {
    patch = JSON.parse(text);
  } catch (cause) {
    throw formatError('The reported-properties patch is not valid JSON', cause);
  }
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw formatError('The reported-properties patch must be a JSON object');
  }
  return patch as JsonObject;
}

export interface TwinResponse {
  /**
   * The request's correlation id, echoed as it came (`TwinRequest.rawCorrelationId`): the Node SDK
   * sends a plain string and finds its pending request by that string, so a string must come back
   * a string, never uuid-typed.
   */
  correlationId: AmqpMessageId;
  /** 200–300 is success to the SDK; an error status needs a JSON `body` (see errors.ts `twinErrorResponse`). */
  status: number;
  /** The twin version (reported version after a PATCH). */
  version?: number;
  body?: JsonValue;
}

/**
 * A response on the device's twin receiver (§5.3): annotations `status` (AMQP int) and `version`
 * (AMQP long) — typed explicitly because rhea would otherwise pick uint/ulong for positive numbers
 * and IoT Hub's other SDKs read int and long; the body a data section of JSON text, or an empty
 * data section when there is none (rhea would encode an absent body as an AMQP null value).
 */
export function twinResponseToAmqp(response: TwinResponse): Message {
  const annotations: Record<string, unknown> = { status: rhea.types.wrap_int(response.status) };
  if (response.version !== undefined) annotations.version = rhea.types.wrap_long(response.version);
  return {
    correlation_id: response.correlationId as Message['correlation_id'],
    message_annotations: annotations,
    body: response.body === undefined ? rhea.message.data_section(Buffer.alloc(0)) : jsonDataSection(response.body),
  };
}

/**
 * A desired-properties notification on the twin receiver (§5.3): no correlation id (which is how
 * the SDK tells it from a response) and the patch, `$version` included, as JSON in a data section.
 */
export function desiredPatchToAmqp(patch: JsonObject): Message {
  return { body: jsonDataSection(patch) };
}

// ---------------------------------------------------------------------------------------------
// Feedback (hub → service)

/**
 * A feedback batch for the service's `/messages/serviceBound/feedback` receiver (§8): content type
 * `application/vnd.microsoft.iothub.feedback.json`, `user_id` = the hub name, body the JSON array
 * of records (core's `feedbackBatchBody`) in a data section.
 */
export function feedbackBatchToAmqp(records: readonly FeedbackRecord[], hubName: string): Message {
  return {
    content_type: FEEDBACK_CONTENT_TYPE,
    user_id: hubName,
    body: jsonDataSection(feedbackBatchBody(records)),
  };
}
