/**
 * How a stored twin (TwinState) reads as IoT Hub's twin documents: the twin etag, the device's
 * view (`{desired, reported}` with `$version`, no `$metadata`, digest §4.5) and the service's
 * `tags` + `properties` with `$metadata` and `$version` (digest §7.1). Identity fields of the
 * service view and their JSON spelling belong to the service API's representation.
 * @module
 */

import type { Device, JsonObject, Module, TwinState } from '../identity/types.ts';

/**
 * IoT Hub's twin etag: base64 of the twin version as an 8-byte big-endian integer.
 * @example twinEtag(1) // 'AAAAAAAAAAE='
 */
export function twinEtag(version: number): string {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(version));
  return bytes.toString('base64');
}

/** The twin a device reads: `{desired: {…, $version}, reported: {…, $version}}`, never empty. */
export function deviceTwinView(state: TwinState): JsonObject {
  return {
    desired: { ...state.desired, $version: state.desiredVersion },
    reported: { ...state.reported, $version: state.reportedVersion },
  };
}

/** The `properties` of the service view: each section with `$metadata` and `$version`. */
export function twinProperties(state: TwinState): { desired: JsonObject; reported: JsonObject } {
  return {
    desired: { ...state.desired, $metadata: state.desiredMetadata, $version: state.desiredVersion },
    reported: { ...state.reported, $metadata: state.reportedMetadata, $version: state.reportedVersion },
  };
}

/** A twin as the service API returns it, before its JSON spelling (times, defaults) is applied. */
export interface ServiceTwin {
  deviceId: string;
  moduleId: string | null;
  /** The twin etag (twinEtag of `version`). */
  etag: string;
  version: number;
  /** The identity the twin belongs to; its etag is the twin's `deviceEtag`. */
  identity: Device | Module;
  /** The IoT Plug and Play model the device announced, if any. */
  modelId: string | null;
  tags: JsonObject;
  properties: { desired: JsonObject; reported: JsonObject };
}

export function serviceTwin(identity: Device | Module, state: TwinState, modelId: string | null): ServiceTwin {
  return {
    deviceId: identity.deviceId,
    moduleId: 'moduleId' in identity ? identity.moduleId : null,
    etag: twinEtag(state.version),
    version: state.version,
    identity,
    modelId,
    tags: state.tags,
    properties: twinProperties(state),
  };
}
