// Module identities of a device (IoT Hub REST `/devices/{id}/modules`), read-only for the console.
import { hubJson, segment } from './hub.ts';
import type { Module } from './types.ts';

export function listModules(deviceId: string, signal?: AbortSignal): Promise<Module[]> {
  return hubJson<Module[]>(`/devices/${segment(deviceId)}/modules`, { signal });
}
