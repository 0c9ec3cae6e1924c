/**
 * A device or module twin as IoT Hub's REST API returns it (`/twins/{id}[/modules/{m}]`, digest
 * §7.1): the twin document (tags, properties with `$metadata`/`$version`) with the identity
 * fields IoT Hub copies into it. Request bodies stay JSON objects: core's twin service reads them.
 * @module
 */

import { identityEtag, type ServiceTwin } from '@tributary/core';
import { timeJson } from './fields.ts';

export function twinJson(twin: ServiceTwin) {
  const { identity } = twin;
  const device = 'moduleId' in identity ? undefined : identity;
  return {
    deviceId: twin.deviceId,
    ...(twin.moduleId === null ? {} : { moduleId: twin.moduleId }),
    etag: twin.etag,
    deviceEtag: identityEtag(identity.etagVersion),
    // Modules have no status of their own; IoT Hub shows module twins as enabled.
    status: device?.status ?? 'enabled',
    statusReason: device?.statusReason ?? undefined,
    statusUpdateTime: timeJson(device?.statusUpdatedTime ?? null),
    connectionState: identity.connectionState,
    lastActivityTime: timeJson(identity.lastActivityTime),
    cloudToDeviceMessageCount: identity.cloudToDeviceMessageCount,
    authenticationType: identity.authentication.type,
    x509Thumbprint: { ...identity.authentication.x509Thumbprint },
    // IoT Hub writes an empty string for devices that announced no model.
    modelId: twin.modelId ?? '',
    version: twin.version,
    tags: twin.tags,
    properties: twin.properties,
    ...(device && {
      capabilities: { iotEdge: device.capabilities.iotEdge },
      deviceScope: device.deviceScope ?? undefined,
      parentScopes: device.parentScopes,
    }),
  };
}
