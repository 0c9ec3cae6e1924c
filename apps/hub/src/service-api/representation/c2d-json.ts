/**
 * Cloud-to-device messages on the service REST API: the request headers of a send
 * (`iothub-*`, as the HTTPS device API names the same properties, azure-wire-protocol.md §6),
 * the queue listing the console reads, and the purge result of `DELETE /devices/{id}/commands` (§7.1).
 * @module
 */

import type { C2dSystemProperties, CloudToDeviceMessage, CloudToDeviceMessageInput } from '@tributary/core';

/** Application properties travel as `iothub-app-<name>` headers; HTTP lower-cases the names. */
export const APP_PROPERTY_HEADER_PREFIX = 'iothub-app-';

const SYSTEM_PROPERTY_HEADERS: [header: string, property: keyof C2dSystemProperties][] = [
  ['iothub-messageid', 'message-id'],
  ['iothub-correlationid', 'correlation-id'],
  ['iothub-userid', 'user-id'],
  ['iothub-contenttype', 'content-type'],
  ['iothub-contentencoding', 'content-encoding'],
  ['iothub-expiry', 'absolute-expiry-time'],
];

/**
 * A send request as queue input. `iothub-expiry` is an absolute ISO-8601 time (as in AMQP's
 * absolute-expiry-time; there is no relative TTL header). Without `iothub-contenttype`, the
 * request's own `Content-Type` becomes the message's content type. `Content-Encoding` is not
 * mapped: on HTTP it means the body is compressed. Empty header values count as absent.
 */
export function c2dInputFromRequest(headers: Headers, body: Uint8Array): CloudToDeviceMessageInput {
  const systemProperties: Omit<C2dSystemProperties, 'to'> = {};
  for (const [header, property] of SYSTEM_PROPERTY_HEADERS) {
    const value = headers.get(header);
    if (value) systemProperties[property as Exclude<keyof C2dSystemProperties, 'to'>] = value;
  }
  const contentType = headers.get('content-type');
  if (!systemProperties['content-type'] && contentType) systemProperties['content-type'] = contentType;
  const applicationProperties: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name.startsWith(APP_PROPERTY_HEADER_PREFIX) && name.length > APP_PROPERTY_HEADER_PREFIX.length) {
      applicationProperties[name.slice(APP_PROPERTY_HEADER_PREFIX.length)] = value;
    }
  });
  return { body, systemProperties, applicationProperties, ack: headers.get('iothub-ack') || undefined };
}

/** One queued message as the console lists it; the lock token stays private to the device. */
export interface C2dMessageJson {
  messageId: string;
  sequenceNumber: number;
  correlationId: string | null;
  userId: string | null;
  to: string | null;
  contentType: string | null;
  contentEncoding: string | null;
  ack: string;
  enqueuedTimeUtc: string;
  expiryTimeUtc: string;
  deliveryCount: number;
  /** When the current or last delivery's lock ends; null when never delivered or given back. */
  lockedUntilUtc: string | null;
  properties: Record<string, string>;
  /** The body, base64-encoded. */
  body: string;
  bodySizeInBytes: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function c2dMessageJson(message: CloudToDeviceMessage): C2dMessageJson {
  const system = message.systemProperties;
  return {
    messageId: message.messageId,
    sequenceNumber: message.sequenceNumber,
    correlationId: system['correlation-id'] ?? null,
    userId: system['user-id'] ?? null,
    to: system.to ?? null,
    contentType: system['content-type'] ?? null,
    contentEncoding: system['content-encoding'] ?? null,
    ack: message.ack,
    enqueuedTimeUtc: iso(message.enqueuedTime),
    expiryTimeUtc: iso(message.expiryTime),
    deliveryCount: message.deliveryCount,
    lockedUntilUtc: message.lockedUntil === null ? null : iso(message.lockedUntil),
    properties: message.applicationProperties,
    body: Buffer.from(message.body).toString('base64'),
    bodySizeInBytes: message.body.byteLength,
  };
}

/** IoT Hub's PurgeMessageQueueResult; only devices have queues, so `moduleId` is always null. */
export const purgeResultJson = (deviceId: string, totalMessagesPurged: number) => ({
  totalMessagesPurged,
  deviceId,
  moduleId: null,
});
