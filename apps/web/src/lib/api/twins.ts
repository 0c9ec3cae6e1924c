// Typed calls for device and module twins (IoT Hub REST `/twins/...`). Owns URLs and the etag
// header; what goes into a patch is the twin editor's.
import { hubJson, segment } from './hub.ts';
import type { Twin } from './types.ts';

/** `/twins/{deviceId}` or `/twins/{deviceId}/modules/{moduleId}`. */
export const twinPath = (deviceId: string, moduleId?: string) =>
  moduleId === undefined ? `/twins/${segment(deviceId)}` : `/twins/${segment(deviceId)}/modules/${segment(moduleId)}`;

export function getTwin(path: string, signal?: AbortSignal): Promise<Twin> {
  return hubJson<Twin>(path, { signal });
}

/** Merges `patch` into the twin; fails with PreconditionFailed (412) when `etag` is stale. */
export function patchTwin(path: string, etag: string, patch: { tags?: object; properties?: { desired: object } }): Promise<Twin> {
  return hubJson<Twin>(path, { method: 'PATCH', json: patch, headers: { 'if-match': etag } });
}
