/**
 * Device and module twins: the twin service, its store port, and the pure rules (merge,
 * metadata, limits, documents) it applies. Re-exported by the package's public surface.
 * @module
 */

export { TwinService, type TwinServiceDeps } from './twin-service.ts';
export { MAX_TWIN_WRITE_ATTEMPTS } from './twin-write-batches.ts';
export type { TwinStore, StoredTwin, TwinTarget, TwinUpdate } from './twin-store.ts';
export type { TwinChange, TwinMutation } from './twin-changes.ts';
export { applyReportedPatch, applyServicePatch, applyServiceReplace } from './twin-changes.ts';
export { twinEtag, deviceTwinView, twinProperties, serviceTwin, type ServiceTwin } from './twin-document.ts';
export { TWIN_LIMITS, SECTION_PATHS, twinSize, type TwinSection } from './twin-limits.ts';
