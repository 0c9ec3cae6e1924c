/**
 * What a session pushes to its device, described, not sent: each adapter implements this sink and
 * turns the calls into its protocol (an MQTT PUBLISH, an AMQP transfer, …), like EMQX's replies.
 * @module
 */

import type { JsonObject, JsonValue } from '../identity/types.ts';
import type { SystemProperties } from '../telemetry/message.ts';

/** A cloud-to-device message handed to a device, locked until settled with `lockToken`. */
export interface C2dDelivery {
  lockToken: string;
  messageId: string;
  deliveryCount: number;
  body: Uint8Array;
  systemProperties: SystemProperties;
  applicationProperties: Record<string, string>;
}

export interface MethodRequest {
  /** The request id the device must echo in its response. */
  requestId: string;
  methodName: string;
  payload: JsonValue;
}

export interface DeviceSink {
  deliverC2d(message: C2dDelivery): void;
  /** A desired-properties delta including `"$version": n`. */
  desiredPatch(patch: JsonObject): void;
  invokeMethod(request: MethodRequest): void;
  /** The hub ends the connection; `reason` is safe to log or show. */
  close(reason: { code: 'ConnectionForcefullyClosedOnNewConnection' | 'IotHubUnauthorized' | 'DeviceNotFound' | 'ServerError'; message: string }): void;
}
