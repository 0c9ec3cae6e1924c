/**
 * The twin every new identity starts with: empty tags and properties at version 1.
 * @module
 */

import type { JsonObject, TwinState } from './types.ts';

export function initialTwinState(nowMs: number, seed?: { tags?: JsonObject; desired?: JsonObject }): TwinState {
  const lastUpdated = new Date(nowMs).toISOString();
  return {
    tags: seed?.tags ?? {},
    desired: seed?.desired ?? {},
    reported: {},
    desiredMetadata: { $lastUpdated: lastUpdated },
    reportedMetadata: { $lastUpdated: lastUpdated },
    desiredVersion: 1,
    reportedVersion: 1,
    version: 1,
  };
}
