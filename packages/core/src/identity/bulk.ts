/**
 * Types of the bulk registry operation (`POST /devices`): up to 100 devices, each with an import
 * mode, answered per device as IoT Hub does.
 * @module
 */

import type { HubErrorName } from '../errors.ts';
import type { DeviceInput, JsonObject } from './types.ts';

/**
 * IoT Hub import modes: `create` fails on an existing device; `update` creates or overwrites;
 * `updateIfMatchETag` creates, or overwrites only on a matching etag; `delete` fails on a
 * missing device; `deleteIfMatchETag` deletes only on a matching etag.
 */
export type ImportMode = 'create' | 'update' | 'updateIfMatchETag' | 'delete' | 'deleteIfMatchETag';
export const IMPORT_MODES: readonly ImportMode[] = ['create', 'update', 'updateIfMatchETag', 'delete', 'deleteIfMatchETag'];

export interface BulkDeviceOperation {
  importMode: ImportMode;
  device: DeviceInput;
  /** The device etag an *IfMatchETag mode compares with. */
  etag?: string | null;
  /** Initial twin content for created devices. */
  tags?: JsonObject;
  desired?: JsonObject;
}

export interface BulkDeviceError {
  deviceId: string;
  errorCode: HubErrorName;
  errorStatus: string;
}

export interface BulkRegistryOperationResult {
  isSuccessful: boolean;
  errors: BulkDeviceError[];
  warnings: BulkDeviceError[];
}

export const MAX_BULK_DEVICES = 100;
