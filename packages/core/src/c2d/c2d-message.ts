/**
 * A cloud-to-device message as core sees it, whatever protocol sent it (service REST, service
 * AMQP) or will deliver it (MQTT, AMQP, HTTPS): what a service may set, what the queue stores,
 * and the validation of a send (size, ack mode, expiry). How the queue moves a message through
 * its life cycle is `c2d-queue.ts`; wire forms belong to the adapters.
 * @module
 */

import { randomUUID } from 'node:crypto';
import { argumentInvalid, HubError, messageTooLarge } from '../errors.ts';
import type { DeviceSetSystemProperties } from '../telemetry/message.ts';

/** Which outcomes the sender wants feedback for (`iothub-ack`), azure-wire-protocol.md §8. */
export type C2dAck = 'none' | 'positive' | 'negative' | 'full';
export const C2D_ACKS: readonly C2dAck[] = ['none', 'positive', 'negative', 'full'];

/** The application property that carries the ack mode on every protocol. */
export const ACK_PROPERTY = 'iothub-ack';

/**
 * System properties a service may set on a cloud-to-device message (IoT Hub names). `to` is
 * always `/devices/{deviceId}/messages/deviceBound`, set by the hub; `absolute-expiry-time` is as
 * the sender gave it, the effective one is `expiryTime`.
 */
export type C2dSystemProperties = Pick<
  DeviceSetSystemProperties,
  'message-id' | 'correlation-id' | 'user-id' | 'to' | 'content-type' | 'content-encoding' | 'absolute-expiry-time'
>;

/** What a service sends. `ack` wins over the `iothub-ack` application property; both absent mean `none`. */
export interface CloudToDeviceMessageInput {
  body: Uint8Array;
  systemProperties?: Omit<C2dSystemProperties, 'to'>;
  applicationProperties?: Record<string, string>;
  ack?: string;
}

/** A message as queued for one device. Times are epoch milliseconds. */
export interface CloudToDeviceMessage {
  /** Per hub, increasing in enqueue order: the FIFO order of every device queue. */
  sequenceNumber: number;
  messageId: string;
  deviceId: string;
  /** The device incarnation the message was sent to; feedback reports it. */
  deviceGenerationId: string;
  body: Uint8Array;
  systemProperties: C2dSystemProperties;
  /**
   * As the sender gave them, with `iothub-ack` normalised: present (lower case) unless the mode is
   * `none`, because devices read it as an application property (§4.4).
   */
  applicationProperties: Record<string, string>;
  ack: C2dAck;
  enqueuedTime: number;
  expiryTime: number;
  /** How many times the message was handed to the device, counting the current delivery. */
  deliveryCount: number;
  /** Set while the message is delivered and not yet settled. */
  lockToken: string | null;
  lockedUntil: number | null;
}

/** A message as `receive` hands it out: locked until `lockedUntil`, settled with `lockToken`. */
export type LockedCloudToDeviceMessage = CloudToDeviceMessage & { lockToken: string; lockedUntil: number };

/** A message before the store assigns its sequence number. */
export type NewCloudToDeviceMessage = Omit<CloudToDeviceMessage, 'sequenceNumber'>;

/** IoT Hub's cloud-to-device size limit: 64 KB of body and properties together (§12). */
export const MAX_C2D_MESSAGE_BYTES = 64 * 1024;
/** IoT Hub caps message ids at 128 characters. */
export const MAX_MESSAGE_ID_LENGTH = 128;

export const queueDepthExceeded = (deviceId: string, maxQueueDepth: number) =>
  new HubError(
    'DeviceMaximumQueueDepthExceeded',
    `The cloud-to-device queue of device '${deviceId}' already holds ${maxQueueDepth} messages`,
  );
export const messageLockLost = (deviceId: string) =>
  new HubError(
    'DeviceMessageLockLost',
    `The lock token does not name a message locked for device '${deviceId}': it is unknown, expired or already settled`,
  );

/** The `to` IoT Hub stamps on every cloud-to-device message (§8: the service SDK encodes the id). */
export const deviceBoundAddress = (deviceId: string) => `/devices/${encodeURIComponent(deviceId)}/messages/deviceBound`;

const utf8Length = (text: string) => Buffer.byteLength(text, 'utf8');

/** Body bytes plus the UTF-8 bytes of every property name and value: what the 64 KB limit counts. */
export function messageSizeBytes(
  body: Uint8Array,
  systemProperties: C2dSystemProperties,
  applicationProperties: Record<string, string>,
): number {
  let size = body.byteLength;
  for (const [key, value] of [...Object.entries(systemProperties), ...Object.entries(applicationProperties)]) {
    if (value !== undefined) size += utf8Length(key) + utf8Length(value);
  }
  return size;
}

/** `none|positive|negative|full`, any case; undefined and empty mean `none`. */
export function parseAck(value: string | undefined): C2dAck {
  if (value === undefined || value === '') return 'none';
  const ack = value.toLowerCase() as C2dAck;
  if (!C2D_ACKS.includes(ack)) throw argumentInvalid(`${ACK_PROPERTY} must be one of ${C2D_ACKS.join(', ')}, got '${value}'`);
  return ack;
}

export interface ExpiryLimits {
  nowMs: number;
  defaultTtlMs: number;
  maxTtlMs: number;
}

/**
 * The effective expiry: the sender's absolute expiry when given, else now + default TTL. An
 * expiry that is unparsable, not in the future or beyond the maximum TTL is refused rather than
 * clipped, so the sender learns its message would not live as long as it asked.
 */
export function expiryTimeOf(absoluteExpiry: string | undefined, { nowMs, defaultTtlMs, maxTtlMs }: ExpiryLimits): number {
  if (absoluteExpiry === undefined) return nowMs + defaultTtlMs;
  const expiry = Date.parse(absoluteExpiry);
  if (Number.isNaN(expiry)) throw argumentInvalid(`absolute-expiry-time '${absoluteExpiry}' is not an ISO-8601 time`);
  if (expiry <= nowMs) throw argumentInvalid(`absolute-expiry-time '${absoluteExpiry}' is not in the future`);
  if (expiry > nowMs + maxTtlMs) {
    throw argumentInvalid(`absolute-expiry-time '${absoluteExpiry}' is more than ${maxTtlMs / 3_600_000} hours ahead`);
  }
  return expiry;
}

/** A validated send, before the queue learns which incarnation of the device it goes to. */
export type PreparedCloudToDeviceMessage = Omit<NewCloudToDeviceMessage, 'deviceGenerationId'>;

/**
 * Validates a send and builds the message to queue: message id (given or a new UUID), `to`, the
 * ack mode (`input.ack`, else the `iothub-ack` property), the expiry, and the 64 KB limit. Pure, so
 * a bad send fails before any store is touched.
 */
export function prepareCloudToDeviceMessage(
  input: CloudToDeviceMessageInput,
  context: ExpiryLimits & { deviceId: string },
): PreparedCloudToDeviceMessage {
  const { [ACK_PROPERTY]: ackProperty, ...applicationProperties } = input.applicationProperties ?? {};
  const ack = parseAck(input.ack ?? ackProperty);
  if (ack !== 'none') applicationProperties[ACK_PROPERTY] = ack;
  const given = { ...input.systemProperties };
  for (const key of Object.keys(given) as (keyof typeof given)[]) {
    if (given[key] === undefined) delete given[key];
  }
  const messageId = given['message-id'] ?? randomUUID();
  if (messageId === '' || messageId.length > MAX_MESSAGE_ID_LENGTH) {
    throw argumentInvalid(`message-id must be 1 to ${MAX_MESSAGE_ID_LENGTH} characters long`);
  }
  for (const [key, value] of Object.entries(applicationProperties)) {
    if (typeof value !== 'string') throw argumentInvalid(`application property '${key}' must be a string`);
  }
  const systemProperties: C2dSystemProperties = { ...given, 'message-id': messageId, to: deviceBoundAddress(context.deviceId) };
  const sizeBytes = messageSizeBytes(input.body, systemProperties, applicationProperties);
  if (sizeBytes > MAX_C2D_MESSAGE_BYTES) throw messageTooLarge(MAX_C2D_MESSAGE_BYTES);
  return {
    messageId,
    deviceId: context.deviceId,
    body: input.body,
    systemProperties,
    applicationProperties,
    ack,
    enqueuedTime: context.nowMs,
    expiryTime: expiryTimeOf(given['absolute-expiry-time'], context),
    deliveryCount: 0,
    lockToken: null,
    lockedUntil: null,
  };
}
