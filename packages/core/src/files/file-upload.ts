/**
 * The file upload model (azure-wire-protocol.md §6.1, §8): an upload a device initiated, its
 * outcome, and the file notification the service's receiver reads. Blob bytes are not here: they
 * live behind the BlobContentStore port (`blob-content.ts`).
 * @module
 */

import { argumentInvalid, HubError } from '../errors.ts';

/** The built-in blob storage's one container. It must not collide with a REST path of the hub. */
export const FILE_UPLOAD_CONTAINER = 'tributary-files';
/** IoT Hub allows 10 concurrent (initiated, not yet notified, not expired) uploads per device [docs §12]. */
export const MAX_ACTIVE_FILE_UPLOADS = 10;
/** Default per-device quota of stored bytes (committed blobs plus staged blocks). */
export const DEFAULT_DEVICE_QUOTA_BYTES = 1024 * 1024 * 1024;
/** Azure caps blob names at 1,024 characters. */
export const MAX_BLOB_NAME_LENGTH = 1024;

export type FileUploadState = 'active' | 'completed' | 'failed';

/** One upload a device initiated with `POST /devices/{d}/files`. */
export interface FileUpload {
  correlationId: string;
  deviceId: string;
  /** The full blob name, `{deviceId}/{name the device asked for}`. */
  blobName: string;
  createdAt: number;
  /** When its SAS expires: an active upload stops counting against the limit then. */
  expiresAt: number;
  state: FileUploadState;
  completedAt: number | null;
  statusCode: number | null;
  statusDescription: string | null;
}

/** The outcome a device reports with `POST /devices/{d}/files/notifications`. */
export interface FileUploadOutcome {
  isSuccess: boolean;
  statusCode: number;
  statusDescription: string;
}

/** A file notification as stored, before the store gives it an id. */
export interface NewFileNotification {
  deviceId: string;
  blobUri: string;
  blobName: string;
  lastUpdatedTime: number;
  blobSizeInBytes: number;
  enqueuedTimeUtc: number;
}

export interface FileNotification extends NewFileNotification {
  id: number;
}

/** The JSON body IoT Hub sends on `/messages/serviceBound/filenotifications` (§8). */
export interface FileNotificationBody {
  deviceId: string;
  blobUri: string;
  blobName: string;
  lastUpdatedTime: string;
  blobSizeInBytes: number;
  enqueuedTimeUtc: string;
}

export function fileNotificationBody(notification: NewFileNotification): FileNotificationBody {
  return {
    deviceId: notification.deviceId,
    blobUri: notification.blobUri,
    blobName: notification.blobName,
    lastUpdatedTime: new Date(notification.lastUpdatedTime).toISOString(),
    blobSizeInBytes: notification.blobSizeInBytes,
    enqueuedTimeUtc: new Date(notification.enqueuedTimeUtc).toISOString(),
  };
}

/** The response of `POST /devices/{d}/files` the device SDK reads (§6.1). */
export interface FileUploadSasResponse {
  correlationId: string;
  hostName: string;
  containerName: string;
  blobName: string;
  /** Starts with `?`: the SDK appends it to the blob URL as is. */
  sasToken: string;
}

/**
 * Checks the name a device asks for. Segments `.`/`..` and empty ones are refused: URL
 * normalisation in clients would make the blob unreachable (or address another one).
 */
export function validateUploadBlobName(deviceId: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw argumentInvalid('blobName must be a non-empty string');
  const full = `${deviceId}/${name}`;
  if (full.length > MAX_BLOB_NAME_LENGTH) throw argumentInvalid(`The blob name is longer than ${MAX_BLOB_NAME_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(name)) throw argumentInvalid('blobName must not hold control characters or backslashes');
  if (name.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw argumentInvalid("blobName must not hold empty, '.' or '..' path segments");
  }
  return full;
}

/** The device a blob belongs to: blobs are named `{deviceId}/…`. */
export function deviceIdOfBlob(blobName: string): string {
  const slash = blobName.indexOf('/');
  return slash <= 0 ? '' : blobName.slice(0, slash);
}

export const activeFileUploadLimitExceeded = (deviceId: string, max: number) =>
  new HubError(
    'DeviceMaximumActiveFileUploadLimitExceeded',
    `Device '${deviceId}' already has ${max} active file uploads; notify the hub of one before starting another`,
  );

export const deviceFileQuotaExceeded = (deviceId: string, quotaBytes?: number) =>
  new HubError(
    'IotHubQuotaExceeded',
    `The upload would take device '${deviceId}' past its file storage quota${quotaBytes === undefined ? '' : ` of ${quotaBytes} bytes`}`,
  );

export const unknownFileUpload = (correlationId: string) =>
  argumentInvalid(`No active file upload has the correlation id '${correlationId}'`);
