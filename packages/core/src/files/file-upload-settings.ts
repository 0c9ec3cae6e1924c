/**
 * The hub settings of file upload (SettingsStore keys, documented here once):
 * - `fileUpload.sasTtlSeconds` (number): lifetime of a blob SAS, and of an upload's slot in the
 *   active-upload limit. Default 3600 (IoT Hub's default, §6.1).
 * - `fileUpload.notificationsEnabled` (boolean): whether completed uploads produce file
 *   notifications. Default true.
 * - `fileUpload.deviceQuotaBytes` (number): bytes each device may store; overrides the service
 *   option `deviceQuotaBytes` (default 1 GiB) when set.
 * - `fileUpload.sasSigningKey` (base64): the secret blob SASs are signed with; created on first
 *   use and never shown by the API.
 * @module
 */

import { argumentInvalid } from '../errors.ts';

export const FILE_UPLOAD_SETTING_KEYS = {
  sasTtlSeconds: 'fileUpload.sasTtlSeconds',
  isNotificationEnabled: 'fileUpload.notificationsEnabled',
  deviceQuotaBytes: 'fileUpload.deviceQuotaBytes',
  sasSigningKey: 'fileUpload.sasSigningKey',
} as const;

export const DEFAULT_FILE_UPLOAD_SAS_TTL_SECONDS = 3600;
/** IoT Hub accepts SAS TTLs of 1 minute to 24 hours; shorter ones are allowed here so tests and operators can see expiry quickly. */
export const MIN_FILE_UPLOAD_SAS_TTL_SECONDS = 1;
export const MAX_FILE_UPLOAD_SAS_TTL_SECONDS = 24 * 3600;

export interface FileUploadSettings {
  sasTtlSeconds: number;
  isNotificationEnabled: boolean;
  deviceQuotaBytes: number;
}

/** Checks a partial settings change as an operator sends it; throws ArgumentInvalid. */
export function parseFileUploadSettings(value: unknown): Partial<FileUploadSettings> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw argumentInvalid('File upload settings must be a JSON object');
  const { sasTtlSeconds, isNotificationEnabled, deviceQuotaBytes, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw argumentInvalid(`Unknown file upload setting '${unknown[0]}'`);
  const parsed: Partial<FileUploadSettings> = {};
  if (sasTtlSeconds !== undefined) {
    if (
      typeof sasTtlSeconds !== 'number' ||
      !Number.isInteger(sasTtlSeconds) ||
      sasTtlSeconds < MIN_FILE_UPLOAD_SAS_TTL_SECONDS ||
      sasTtlSeconds > MAX_FILE_UPLOAD_SAS_TTL_SECONDS
    ) {
      throw argumentInvalid(
        `sasTtlSeconds must be an integer from ${MIN_FILE_UPLOAD_SAS_TTL_SECONDS} to ${MAX_FILE_UPLOAD_SAS_TTL_SECONDS}`,
      );
    }
    parsed.sasTtlSeconds = sasTtlSeconds;
  }
  if (isNotificationEnabled !== undefined) {
    if (typeof isNotificationEnabled !== 'boolean') throw argumentInvalid('isNotificationEnabled must be a boolean');
    parsed.isNotificationEnabled = isNotificationEnabled;
  }
  if (deviceQuotaBytes !== undefined) {
    if (typeof deviceQuotaBytes !== 'number' || !Number.isSafeInteger(deviceQuotaBytes) || deviceQuotaBytes < 0) {
      throw argumentInvalid('deviceQuotaBytes must be a non-negative integer');
    }
    parsed.deviceQuotaBytes = deviceQuotaBytes;
  }
  return parsed;
}
