/**
 * How a module record is built from caller input on create and on replace.
 * @module
 */

import { validateDeviceId, validateModuleId } from './identifiers.ts';
import { normalizeAuthentication } from './keys.ts';
import { createGenerationId } from './generation-id.ts';
import type { Module, ModuleInput } from './types.ts';

export function newModule(input: ModuleInput, nowMs: number): Module {
  return {
    deviceId: validateDeviceId(input.deviceId),
    moduleId: validateModuleId(input.moduleId),
    generationId: createGenerationId(nowMs),
    etagVersion: 1,
    managedBy: input.managedBy || null,
    connectionState: 'Disconnected',
    connectionStateUpdatedTime: null,
    lastActivityTime: null,
    cloudToDeviceMessageCount: 0,
    authentication: normalizeAuthentication(input.authentication),
  };
}

export function replacedModule(current: Module, input: ModuleInput): Module {
  return {
    ...current,
    etagVersion: current.etagVersion + 1,
    managedBy: input.managedBy === undefined ? current.managedBy : input.managedBy || null,
    authentication:
      input.authentication === undefined
        ? current.authentication
        : normalizeAuthentication(input.authentication, current.authentication),
  };
}
