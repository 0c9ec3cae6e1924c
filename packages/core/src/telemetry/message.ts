/**
 * A device-to-cloud message as core sees it, whatever protocol brought it: body bytes, IoT Hub's
 * system properties (by their IoT Hub names) and application properties. Adapters translate their
 * wire form (MQTT property bag, AMQP properties, HTTPS headers) into this and back.
 * @module
 */

/** System properties a device may set on a message (IoT Hub names). */
export interface DeviceSetSystemProperties {
  'message-id'?: string;
  'correlation-id'?: string;
  'user-id'?: string;
  to?: string;
  'content-type'?: string;
  'content-encoding'?: string;
  /** Absolute expiry, ISO-8601. */
  'absolute-expiry-time'?: string;
  'iothub-interface-id'?: string;
  'dt-subject'?: string;
  /** Module output name (`$.on` over MQTT). */
  'iothub-outputname'?: string;
}

/** System properties the hub stamps on every message it accepts. */
export interface HubSetSystemProperties {
  'iothub-connection-device-id': string;
  'iothub-connection-module-id'?: string;
  'iothub-connection-auth-method': string;
  'iothub-connection-auth-generation-id': string;
  /** ISO-8601 time the message entered the event stream. */
  'iothub-enqueuedtime': string;
  /** `Telemetry`, `twinChangeEvents`, `deviceLifecycleEvents`, `deviceConnectionStateEvents`. */
  'iothub-message-source': MessageSource;
}

export type MessageSource = 'Telemetry' | 'twinChangeEvents' | 'deviceLifecycleEvents' | 'deviceConnectionStateEvents';

export type SystemProperties = DeviceSetSystemProperties & Partial<HubSetSystemProperties>;

/** What a device sends. */
export interface TelemetryMessage {
  body: Uint8Array;
  systemProperties: DeviceSetSystemProperties;
  applicationProperties: Record<string, string>;
}

/** IoT Hub's device-to-cloud size limit: 256 KB of body and properties together. */
export const MAX_TELEMETRY_BYTES = 256 * 1024;
