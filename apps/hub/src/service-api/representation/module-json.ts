/**
 * A module as IoT Hub's REST API writes and reads it (`/devices/{id}/modules/{moduleId}`).
 * @module
 */

import { argumentInvalid, identityEtag, type Module, type ModuleInput } from '@tributary/core';
import { authenticationJson, parseAuthentication } from './authentication-json.ts';
import { objectAt, optionalNullableString, optionalString, timeJson } from './fields.ts';

export function moduleJson(module: Module) {
  return {
    moduleId: module.moduleId,
    managedBy: module.managedBy,
    deviceId: module.deviceId,
    generationId: module.generationId,
    etag: identityEtag(module.etagVersion),
    connectionState: module.connectionState,
    connectionStateUpdatedTime: timeJson(module.connectionStateUpdatedTime),
    lastActivityTime: timeJson(module.lastActivityTime),
    cloudToDeviceMessageCount: module.cloudToDeviceMessageCount,
    authentication: authenticationJson(module.authentication),
  };
}

/** The body of `PUT /devices/{d}/modules/{m}`; ids in the body, when present, must match the path. */
export function parseModuleBody(body: unknown, deviceId: string, moduleId: string): ModuleInput {
  const fields = objectAt(body, 'The request body');
  for (const [key, expected] of [['deviceId', deviceId], ['moduleId', moduleId]] as const) {
    const given = optionalString(fields, key, 'module');
    if (given !== undefined && given !== expected) {
      throw argumentInvalid(`${key} '${given}' in the body does not match '${expected}' in the path`);
    }
  }
  return {
    deviceId,
    moduleId,
    managedBy: optionalNullableString(fields, 'managedBy', 'module'),
    authentication: parseAuthentication(fields, 'module'),
  };
}
