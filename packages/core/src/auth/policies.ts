/**
 * Shared access policies: named keys with permissions, as in IoT Hub. Defines the built-in
 * policies a new hub starts with and what each permission implies.
 * @module
 */

import { generateKey } from '../identity/keys.ts';

export type Permission = 'RegistryRead' | 'RegistryWrite' | 'ServiceConnect' | 'DeviceConnect';
export const PERMISSIONS: readonly Permission[] = ['RegistryRead', 'RegistryWrite', 'ServiceConnect', 'DeviceConnect'];

export interface SharedAccessPolicy {
  keyName: string;
  primaryKey: string;
  secondaryKey: string;
  rights: Permission[];
}

/** IoT Hub's default policies; a new hub gets each with fresh random keys. */
export const BUILT_IN_POLICY_RIGHTS: Readonly<Record<string, readonly Permission[]>> = {
  iothubowner: ['RegistryRead', 'RegistryWrite', 'ServiceConnect', 'DeviceConnect'],
  service: ['ServiceConnect'],
  device: ['DeviceConnect'],
  registryRead: ['RegistryRead'],
  registryReadWrite: ['RegistryRead', 'RegistryWrite'],
};

export function createBuiltInPolicies(): SharedAccessPolicy[] {
  return Object.entries(BUILT_IN_POLICY_RIGHTS).map(([keyName, rights]) => ({
    keyName,
    primaryKey: generateKey(),
    secondaryKey: generateKey(),
    rights: [...rights],
  }));
}

/** True when `rights` include `permission`; RegistryWrite implies RegistryRead as in IoT Hub. */
export function grants(rights: readonly Permission[], permission: Permission): boolean {
  if (rights.includes(permission)) return true;
  return permission === 'RegistryRead' && rights.includes('RegistryWrite');
}
