/**
 * File upload with the built-in blob storage: the model, the blob SAS, the settings, the service
 * and its two ports (upload records and notifications; blob bytes). core's index re-exports this barrel.
 * @module
 */

export type {
  FileNotification,
  FileNotificationBody,
  FileUpload,
  FileUploadOutcome,
  FileUploadSasResponse,
  FileUploadState,
  NewFileNotification,
} from './file-upload.ts';
export {
  DEFAULT_DEVICE_QUOTA_BYTES,
  FILE_UPLOAD_CONTAINER,
  MAX_ACTIVE_FILE_UPLOADS,
  MAX_BLOB_NAME_LENGTH,
  activeFileUploadLimitExceeded,
  deviceFileQuotaExceeded,
  deviceIdOfBlob,
  fileNotificationBody,
  unknownFileUpload,
  validateUploadBlobName,
} from './file-upload.ts';
export type { BlobPermission, BlobSasScope, SignBlobSasOptions } from './blob-sas.ts';
export { BLOB_SAS_VERSION, signBlobSas, verifyBlobSas } from './blob-sas.ts';
export type { BlobBody, BlobContentStore, BlobHttpHeaders, BlobProperties } from './blob-content.ts';
export { BlobBodyTooLargeError } from './blob-content.ts';
export type { FileStore, FileUploadCompletion } from './file-store.ts';
export type { FileUploadSettings } from './file-upload-settings.ts';
export {
  DEFAULT_FILE_UPLOAD_SAS_TTL_SECONDS,
  FILE_UPLOAD_SETTING_KEYS,
  MAX_FILE_UPLOAD_SAS_TTL_SECONDS,
  MIN_FILE_UPLOAD_SAS_TTL_SECONDS,
  parseFileUploadSettings,
} from './file-upload-settings.ts';
export type { CommitResult, FileUploadOptions, FileUploadServiceDeps } from './file-upload-service.ts';
export { DEFAULT_FILE_UPLOAD_OPTIONS, FileUploadService, parseFileUploadOutcome } from './file-upload-service.ts';
