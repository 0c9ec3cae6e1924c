/**
 * How a device record is built from caller input, on create and on replace: defaults, validation
 * of status and scope, and which fields a replace may change. One place for these rules so the
 * single-device API and the bulk API cannot disagree.
 * @module
 */

import { argumentInvalid, invalidDeviceScope } from '../errors.ts';
import { validateDeviceId } from './identifiers.ts';
import { normalizeAuthentication } from './keys.ts';
import { createGenerationId } from './generation-id.ts';
import type { Device, DeviceInput, DeviceStatus } from './types.ts';
import { DEVICE_STATUSES } from './types.ts';

export const MAX_STATUS_REASON_LENGTH = 128;

function checkStatus(status: unknown): DeviceStatus {
  if (!DEVICE_STATUSES.includes(status as DeviceStatus)) {
    throw argumentInvalid(`status must be one of ${DEVICE_STATUSES.join(', ')}`);
  }
  return status as DeviceStatus;
}

function checkStatusReason(reason: string | null | undefined): string | null {
  if (reason === undefined || reason === null || reason === '') return null;
  if (reason.length > MAX_STATUS_REASON_LENGTH) {
    throw argumentInvalid(`statusReason is longer than ${MAX_STATUS_REASON_LENGTH} characters`);
  }
  return reason;
}

export const EDGE_SCOPE_PREFIX = 'ms-azure-iot-edge://';

/** The scope an edge device owns, as IoT Hub writes it. */
export function edgeDeviceScope(deviceId: string, generationId: string): string {
  return `${EDGE_SCOPE_PREFIX}${deviceId}-${generationId}`;
}

/**
 * Scope rules: an edge device always owns `edgeDeviceScope(...)`; a leaf device may name an edge
 * device's scope as its parent (checked against the registry by the caller) or none. Fields the
 * caller leaves out keep the `current` values on a replace.
 */
function resolveScope(
  input: DeviceInput,
  deviceId: string,
  generationId: string,
  isEdge: boolean,
  current?: Device,
): { deviceScope: string | null; parentScopes: string[] } {
  if (isEdge) {
    const own = edgeDeviceScope(deviceId, generationId);
    if (input.deviceScope && input.deviceScope !== own) {
      throw invalidDeviceScope(`An edge device's deviceScope is assigned by the hub and is ${own}`);
    }
    return { deviceScope: own, parentScopes: input.parentScopes ?? current?.parentScopes ?? [] };
  }
  const deviceScope = input.deviceScope === undefined ? (current?.deviceScope ?? null) : input.deviceScope || null;
  if (deviceScope !== null && !deviceScope.startsWith(EDGE_SCOPE_PREFIX)) {
    throw invalidDeviceScope(`deviceScope '${deviceScope}' is not the scope of an edge device`);
  }
  return { deviceScope, parentScopes: deviceScope ? [deviceScope] : [] };
}

/**
 * Checks what a caller sent without building a device: id, status, reason and authentication.
 * Scope needs the registry and is checked when the device is written.
 */
export function validateDeviceInput(input: DeviceInput): void {
  validateDeviceId(input.deviceId);
  if (input.status !== undefined) checkStatus(input.status);
  checkStatusReason(input.statusReason);
  if (input.authentication !== undefined) normalizeAuthentication(input.authentication);
}

/** A complete new device from `input` (keys generated when empty). */
export function newDevice(input: DeviceInput, nowMs: number): Device {
  const deviceId = validateDeviceId(input.deviceId);
  const generationId = createGenerationId(nowMs);
  const isEdge = input.capabilities?.iotEdge === true;
  return {
    deviceId,
    generationId,
    etagVersion: 1,
    status: input.status === undefined ? 'enabled' : checkStatus(input.status),
    statusReason: checkStatusReason(input.statusReason),
    statusUpdatedTime: nowMs,
    connectionState: 'Disconnected',
    connectionStateUpdatedTime: null,
    lastActivityTime: null,
    cloudToDeviceMessageCount: 0,
    authentication: normalizeAuthentication(input.authentication),
    capabilities: { iotEdge: isEdge },
    ...resolveScope(input, deviceId, generationId, isEdge),
  };
}

/**
 * `current` replaced by what `input` says (IoT Hub's PUT semantics). Fields the caller leaves out
 * keep their current values; identity, generationId and connection bookkeeping are never
 * changed by a caller; the etag moves on.
 */
export function replacedDevice(current: Device, input: DeviceInput, nowMs: number): Device {
  const status = input.status === undefined ? current.status : checkStatus(input.status);
  const isEdge = input.capabilities?.iotEdge ?? current.capabilities.iotEdge;
  return {
    ...current,
    etagVersion: current.etagVersion + 1,
    status,
    statusReason: input.statusReason === undefined ? current.statusReason : checkStatusReason(input.statusReason),
    statusUpdatedTime: status === current.status ? current.statusUpdatedTime : nowMs,
    authentication:
      input.authentication === undefined
        ? current.authentication
        : normalizeAuthentication(input.authentication, current.authentication),
    capabilities: { iotEdge: isEdge },
    ...resolveScope(input, current.deviceId, current.generationId, isEdge, current),
  };
}
