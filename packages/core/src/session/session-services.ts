/**
 * The narrow view of core's services a device session needs. Each is implemented by a service of
 * its own area (event pipeline, twin service, C2D queue, identity registry); tests supply fakes.
 * @module
 */

import type { JsonObject } from '../identity/types.ts';
import type { EventInput } from '../telemetry/event-input.ts';
import type { C2dDelivery } from './device-sink.ts';

export interface TelemetrySink {
  /** Resolves once the message is committed to the event stream. */
  append(input: EventInput): Promise<unknown>;
}

export interface DeviceTwins {
  /** `{desired: {…, $version}, reported: {…, $version}}` as devices see their twin. */
  getDeviceTwin(deviceId: string, moduleId: string | null): Promise<JsonObject>;
  /** Applies a reported-properties patch; resolves to the new reported `$version`. */
  patchReported(deviceId: string, moduleId: string | null, patch: JsonObject): Promise<number>;
}

export type C2dOutcome = 'complete' | 'reject' | 'abandon';

export interface DeviceMessages {
  /** Locks and returns up to `max` deliverable messages, oldest first. */
  receiveMany(deviceId: string, max: number): Promise<C2dDelivery[]>;
  settle(deviceId: string, lockToken: string, outcome: C2dOutcome): Promise<void>;
}

export interface ConnectionStates {
  /**
   * Records Connected/Disconnected and lastActivityTime for the identity in the registry;
   * resolves once written. Changes of one identity are written in the order they were recorded.
   */
  record(deviceId: string, moduleId: string | null, change: { isConnected: boolean; atMs: number; lastActivityTime: number | null }): Promise<void>;
}

export interface SessionServices {
  telemetry: TelemetrySink;
  twins: DeviceTwins;
  messages: DeviceMessages;
  connections: ConnectionStates;
}
