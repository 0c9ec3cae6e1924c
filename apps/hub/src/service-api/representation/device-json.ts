/**
 * A device as IoT Hub's REST API writes and reads it (`GET/PUT /devices/{id}`), and the elements
 * of the bulk registry request (`POST /devices`).
 * @module
 */

import {
  argumentInvalid,
  type BulkDeviceOperation,
  type Device,
  type DeviceInput,
  type DeviceStatus,
  identityEtag,
  IMPORT_MODES,
  type ImportMode,
} from '@tributary/core';
import { authenticationJson, parseAuthentication } from './authentication-json.ts';
import {
  type Fields,
  objectAt,
  optionalBoolean,
  optionalJsonObject,
  optionalNullableString,
  optionalObjectAt,
  optionalString,
  optionalStringArray,
  timeJson,
} from './fields.ts';

export function deviceJson(device: Device) {
  return {
    deviceId: device.deviceId,
    generationId: device.generationId,
    etag: identityEtag(device.etagVersion),
    connectionState: device.connectionState,
    status: device.status,
    statusReason: device.statusReason,
    connectionStateUpdatedTime: timeJson(device.connectionStateUpdatedTime),
    statusUpdatedTime: timeJson(device.statusUpdatedTime),
    lastActivityTime: timeJson(device.lastActivityTime),
    cloudToDeviceMessageCount: device.cloudToDeviceMessageCount,
    authentication: authenticationJson(device.authentication),
    capabilities: { iotEdge: device.capabilities.iotEdge },
    deviceScope: device.deviceScope ?? undefined,
    parentScopes: device.parentScopes,
  };
}

function deviceFields(fields: Fields, deviceId: string, path: string): DeviceInput {
  const capabilities = optionalObjectAt(fields, 'capabilities', path);
  return {
    deviceId,
    status: optionalString(fields, 'status', path) as DeviceStatus | undefined,
    statusReason: optionalNullableString(fields, 'statusReason', path),
    authentication: parseAuthentication(fields, path),
    capabilities: capabilities && { iotEdge: optionalBoolean(capabilities, 'iotEdge', `${path}.capabilities`) },
    deviceScope: optionalNullableString(fields, 'deviceScope', path),
    parentScopes: optionalStringArray(fields, 'parentScopes', path),
  };
}

/** The body of `PUT /devices/{id}`; its deviceId, when present, must equal the one in the path. */
export function parseDeviceBody(body: unknown, deviceIdFromPath: string): DeviceInput {
  const fields = objectAt(body, 'The request body');
  const deviceId = optionalString(fields, 'deviceId', 'device');
  if (deviceId !== undefined && deviceId !== deviceIdFromPath) {
    throw argumentInvalid(`deviceId '${deviceId}' in the body does not match '${deviceIdFromPath}' in the path`);
  }
  return deviceFields(fields, deviceIdFromPath, 'device');
}

const importModeByLowerCase = new Map(IMPORT_MODES.map((mode) => [mode.toLowerCase(), mode]));

/** The body of `POST /devices`: an array of ExportImportDevice elements (`id`, `importMode`, …). */
export function parseBulkBody(body: unknown): BulkDeviceOperation[] {
  if (!Array.isArray(body)) throw argumentInvalid('The request body must be a JSON array of devices');
  return body.map((element, index) => {
    const path = `devices[${index}]`;
    const fields = objectAt(element, path);
    const id = optionalString(fields, 'id', path) ?? optionalString(fields, 'deviceId', path);
    if (id === undefined) throw argumentInvalid(`${path}.id is required`);
    const modeText = optionalString(fields, 'importMode', path) ?? 'create';
    const importMode: ImportMode | undefined = importModeByLowerCase.get(modeText.toLowerCase());
    if (!importMode) throw argumentInvalid(`${path}.importMode must be one of ${IMPORT_MODES.join(', ')}, got '${modeText}'`);
    const properties = optionalObjectAt(fields, 'properties', path);
    return {
      importMode,
      device: deviceFields(fields, id, path),
      etag: optionalNullableString(fields, 'eTag', path) ?? optionalNullableString(fields, 'etag', path),
      tags: optionalJsonObject(fields, 'tags', path),
      desired: properties && optionalJsonObject(properties, 'desired', `${path}.properties`),
    };
  });
}
