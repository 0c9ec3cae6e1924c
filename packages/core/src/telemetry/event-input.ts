/**
 * What producers hand the event pipeline, and the system properties the hub stamps on it. The
 * stamps come from the authenticated connection and the pipeline, never from the device:
 * IoT Hub overwrites `iothub-connection-*` and the rest on every message (anti-spoofing).
 * @module
 */

import { isoTime } from '../clock.ts';
import type { DeviceSetSystemProperties, HubSetSystemProperties, MessageSource, SystemProperties } from './message.ts';

/** One message for the event stream, before the pipeline positions it. */
export interface EventInput {
  deviceId: string;
  moduleId: string | null;
  messageSource: MessageSource;
  systemProperties: DeviceSetSystemProperties;
  applicationProperties: Record<string, string>;
  body: Uint8Array;
  /**
   * The connection the message came over. Telemetry always has one; hub-generated events
   * (twin changes, lifecycle) may not, and then carry no auth stamps.
   */
  connection?: { authMethod: string; generationId: string };
}

/** Every system property only the hub may set. */
export const HUB_SET_PROPERTY_NAMES: readonly (keyof HubSetSystemProperties)[] = [
  'iothub-connection-device-id',
  'iothub-connection-module-id',
  'iothub-connection-auth-method',
  'iothub-connection-auth-generation-id',
  'iothub-enqueuedtime',
  'iothub-message-source',
];

/** The fields of an event that some of its stamps repeat. */
export type StampedFields = { deviceId: string; moduleId: string | null; enqueuedTime: number; messageSource: MessageSource };

/** The stamps that repeat an event's own fields (`withFieldStamps`); a store may keep them in those fields only. */
export const FIELD_STAMP_NAMES: ReadonlySet<string> = new Set<keyof HubSetSystemProperties>([
  'iothub-connection-device-id',
  'iothub-connection-module-id',
  'iothub-enqueuedtime',
  'iothub-message-source',
]);

/** Sets the stamps that repeat the event's fields (enqueued time in epoch ms) on `properties`. */
function setFieldStamps(properties: SystemProperties, fields: StampedFields): SystemProperties {
  properties['iothub-connection-device-id'] = fields.deviceId;
  if (fields.moduleId !== null) properties['iothub-connection-module-id'] = fields.moduleId;
  properties['iothub-enqueuedtime'] = isoTime(fields.enqueuedTime);
  properties['iothub-message-source'] = fields.messageSource;
  return properties;
}

/** A copy of `properties` with the stamps that repeat the event's fields (enqueued time in epoch ms). */
export function withFieldStamps(properties: SystemProperties, fields: StampedFields): SystemProperties {
  return setFieldStamps({ ...properties }, fields);
}

/**
 * The device's own system properties, minus anything hub-set it tried to send, plus the hub's
 * stamps for `enqueuedTime` (epoch ms).
 */
export function stampSystemProperties(input: EventInput, enqueuedTime: number): SystemProperties {
  const stamped: SystemProperties = { ...input.systemProperties };
  for (const name of HUB_SET_PROPERTY_NAMES) delete stamped[name];
  if (input.connection) {
    stamped['iothub-connection-auth-method'] = input.connection.authMethod;
    stamped['iothub-connection-auth-generation-id'] = input.connection.generationId;
  }
  return setFieldStamps(stamped, { deviceId: input.deviceId, moduleId: input.moduleId, enqueuedTime, messageSource: input.messageSource });
}

/** A rough size for batching: body bytes plus property text (UTF-16 length is close enough). */
export function approximateSize(input: EventInput): number {
  let size = input.body.byteLength;
  for (const [key, value] of Object.entries(input.systemProperties)) size += key.length + String(value ?? '').length;
  for (const [key, value] of Object.entries(input.applicationProperties)) size += key.length + value.length;
  return size;
}
