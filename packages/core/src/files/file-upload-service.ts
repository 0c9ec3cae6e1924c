/**
 * File upload (azure-wire-protocol.md §6.1, §8): initiation with a blob SAS, the blob writes the
 * built-in storage accepts under that SAS (quota and refusal), completion with its file
 * notification, and the operator's view of stored files. It owns every file-upload rule; the
 * device routes, the blob routes and the service routes only translate HTTP.
 * @module
 */

import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { argumentInvalid, notFound } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { SettingsStore } from '../ports.ts';
import {
  BlobBodyTooLargeError,
  type BlobBody,
  type BlobContentStore,
  type BlobHttpHeaders,
  type BlobProperties,
} from './blob-content.ts';
import { type BlobPermission, signBlobSas, verifyBlobSas } from './blob-sas.ts';
import {
  activeFileUploadLimitExceeded,
  DEFAULT_DEVICE_QUOTA_BYTES,
  deviceFileQuotaExceeded,
  deviceIdOfBlob,
  FILE_UPLOAD_CONTAINER,
  type FileNotification,
  type FileUpload,
  type FileUploadOutcome,
  type FileUploadSasResponse,
  MAX_ACTIVE_FILE_UPLOADS,
  type NewFileNotification,
  unknownFileUpload,
  validateUploadBlobName,
} from './file-upload.ts';
import {
  DEFAULT_FILE_UPLOAD_SAS_TTL_SECONDS,
  FILE_UPLOAD_SETTING_KEYS,
  type FileUploadSettings,
} from './file-upload-settings.ts';
import type { FileStore } from './file-store.ts';

export interface FileUploadOptions {
  /**
   * Bytes a device may hold in the built-in storage (committed blobs plus staged blocks), unless
   * the hub setting `fileUpload.deviceQuotaBytes` says otherwise.
   */
  deviceQuotaBytes: number;
  /** Concurrent uploads per device (IoT Hub: 10). */
  maxActiveUploads: number;
}

export const DEFAULT_FILE_UPLOAD_OPTIONS: FileUploadOptions = {
  deviceQuotaBytes: DEFAULT_DEVICE_QUOTA_BYTES,
  maxActiveUploads: MAX_ACTIVE_FILE_UPLOADS,
};

export interface FileUploadServiceDeps {
  store: FileStore;
  blobs: BlobContentStore;
  settings: SettingsStore;
  /** The hub's HostName: devices reach the blob storage at `https://{hostName}/{container}/…` (port 443). */
  hostName: string;
  clock: Clock;
  logger: Logger;
  options?: Partial<FileUploadOptions>;
}

/** Result of Put Block List: Azure answers 400 InvalidBlockList when a listed block is not staged. */
export type CommitResult = { isCommitted: true; properties: BlobProperties } | { isCommitted: false; reason: 'invalidBlockList' };

/** A refused upload stays refused this long, so blocks still in flight are dropped as they land. */
const REFUSAL_MEMORY_MS = 24 * 3600 * 1000;

const encodeBlobPath = (blobName: string) => blobName.split('/').map(encodeURIComponent).join('/');

/**
 * Validates the body of `POST /devices/{d}/files/notifications`; throws ArgumentInvalid.
 * `correlationId` may be in the body (other SDKs) when the path does not carry it.
 */
export function parseFileUploadOutcome(body: unknown): FileUploadOutcome & { correlationId?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw argumentInvalid('The notification must be a JSON object');
  const { isSuccess, statusCode, statusDescription, correlationId } = body as Record<string, unknown>;
  if (typeof isSuccess !== 'boolean') throw argumentInvalid('isSuccess must be a boolean');
  if (statusCode !== undefined && (typeof statusCode !== 'number' || !Number.isInteger(statusCode))) {
    throw argumentInvalid('statusCode must be an integer');
  }
  if (statusDescription !== undefined && statusDescription !== null && typeof statusDescription !== 'string') {
    throw argumentInvalid('statusDescription must be a string');
  }
  if (correlationId !== undefined && typeof correlationId !== 'string') throw argumentInvalid('correlationId must be a string');
  return {
    isSuccess,
    statusCode: (statusCode as number | undefined) ?? (isSuccess ? 200 : 500),
    statusDescription: (statusDescription as string | null | undefined) ?? '',
    ...(correlationId === undefined ? {} : { correlationId }),
  };
}

export class FileUploadService {
  readonly containerName = FILE_UPLOAD_CONTAINER;
  readonly options: FileUploadOptions;
  readonly #deps: FileUploadServiceDeps;
  #signingKey: Promise<string> | undefined;
  /** Blob name → until when writes to it are refused (an upload refused for its quota). */
  readonly #refused = new Map<string, number>();
  /** Device → bytes of writes in flight, not yet visible in usageBytes. */
  readonly #reserved = new Map<string, number>();
  /** Device → tail of its quota checks, so check-and-reserve never interleaves. */
  readonly #quotaQueues = new Map<string, Promise<unknown>>();

  constructor(deps: FileUploadServiceDeps) {
    this.#deps = deps;
    this.options = { ...DEFAULT_FILE_UPLOAD_OPTIONS, ...deps.options };
  }

  // ---- settings ----

  async getSettings(): Promise<FileUploadSettings> {
    const { settings } = this.#deps;
    const [sasTtlSeconds, isNotificationEnabled, deviceQuotaBytes] = await Promise.all([
      settings.get<number>(FILE_UPLOAD_SETTING_KEYS.sasTtlSeconds),
      settings.get<boolean>(FILE_UPLOAD_SETTING_KEYS.isNotificationEnabled),
      settings.get<number>(FILE_UPLOAD_SETTING_KEYS.deviceQuotaBytes),
    ]);
    return {
      sasTtlSeconds: sasTtlSeconds ?? DEFAULT_FILE_UPLOAD_SAS_TTL_SECONDS,
      isNotificationEnabled: isNotificationEnabled ?? true,
      deviceQuotaBytes: deviceQuotaBytes ?? this.options.deviceQuotaBytes,
    };
  }

  /** Applies a change checked by `parseFileUploadSettings`; returns the settings in effect. */
  async updateSettings(change: Partial<FileUploadSettings>): Promise<FileUploadSettings> {
    const { settings } = this.#deps;
    if (change.sasTtlSeconds !== undefined) await settings.set(FILE_UPLOAD_SETTING_KEYS.sasTtlSeconds, change.sasTtlSeconds);
    if (change.isNotificationEnabled !== undefined) {
      await settings.set(FILE_UPLOAD_SETTING_KEYS.isNotificationEnabled, change.isNotificationEnabled);
    }
    if (change.deviceQuotaBytes !== undefined) await settings.set(FILE_UPLOAD_SETTING_KEYS.deviceQuotaBytes, change.deviceQuotaBytes);
    return this.getSettings();
  }

  /** The SAS signing secret, created on first use (one in-process creation even under concurrency). */
  #key(): Promise<string> {
    this.#signingKey ??= (async () => {
      const { settings } = this.#deps;
      const existing = await settings.get<string>(FILE_UPLOAD_SETTING_KEYS.sasSigningKey);
      if (existing) return existing;
      await settings.set(FILE_UPLOAD_SETTING_KEYS.sasSigningKey, randomBytes(32).toString('base64'));
      // Read back: another hub process on the same database may have written first.
      return (await settings.get<string>(FILE_UPLOAD_SETTING_KEYS.sasSigningKey))!;
    })().catch((error) => {
      this.#signingKey = undefined;
      throw error;
    });
    return this.#signingKey;
  }

  // ---- device side: initiate and complete ----

  /** `POST /devices/{d}/files`: records an active upload and issues its SAS (rw on that blob only). */
  async initiate(deviceId: string, requestedBlobName: unknown): Promise<FileUploadSasResponse> {
    const blobName = validateUploadBlobName(deviceId, requestedBlobName);
    const { clock, store, hostName, logger } = this.#deps;
    const now = clock.now();
    const [{ sasTtlSeconds }, key] = await Promise.all([this.getSettings(), this.#key()]);
    const upload: FileUpload = {
      correlationId: randomBytes(24).toString('base64url'),
      deviceId,
      blobName,
      createdAt: now,
      expiresAt: now + sasTtlSeconds * 1000,
      state: 'active',
      completedAt: null,
      statusCode: null,
      statusDescription: null,
    };
    if (!(await store.insertUpload(upload, { maxActive: this.options.maxActiveUploads, now }))) {
      throw activeFileUploadLimitExceeded(deviceId, this.options.maxActiveUploads);
    }
    this.#refused.delete(blobName);
    logger.debug('file_upload_initiated', { deviceId, blobName, correlationId: upload.correlationId });
    return {
      correlationId: upload.correlationId,
      hostName,
      containerName: this.containerName,
      blobName,
      sasToken: signBlobSas({ key, containerName: this.containerName, blobName, permissions: 'rw', expiresAtMs: upload.expiresAt }),
    };
  }

  /**
   * `POST /devices/{d}/files/notifications`: ends the upload and, when it succeeded, the blob
   * exists and notifications are on, records its file notification in the same transaction.
   * A failed upload's staged blocks are dropped. Repeating a completion changes nothing.
   */
  async complete(deviceId: string, correlationId: string, outcome: FileUploadOutcome): Promise<void> {
    const { store, blobs, clock, logger } = this.#deps;
    const upload = await store.getUpload(correlationId);
    if (!upload || upload.deviceId !== deviceId) throw unknownFileUpload(correlationId);
    if (upload.state !== 'active') return;
    const now = clock.now();
    let notification: NewFileNotification | undefined;
    if (outcome.isSuccess) {
      const properties = await blobs.getProperties(upload.blobName);
      if (properties && (await this.getSettings()).isNotificationEnabled) notification = this.#notificationOf(deviceId, properties, now);
      if (!properties) logger.warn('file_upload_reported_without_blob', { deviceId, blobName: upload.blobName });
    }
    const completion = {
      state: outcome.isSuccess ? ('completed' as const) : ('failed' as const),
      completedAt: now,
      statusCode: outcome.statusCode,
      statusDescription: outcome.statusDescription,
    };
    await store.completeUpload(correlationId, completion, notification);
    if (!outcome.isSuccess) await blobs.deleteStaged(upload.blobName);
    logger.info('file_upload_completed', { deviceId, blobName: upload.blobName, isSuccess: outcome.isSuccess, statusCode: outcome.statusCode });
  }

  #notificationOf(deviceId: string, properties: BlobProperties, now: number): NewFileNotification {
    return {
      deviceId,
      blobUri: `https://${this.#deps.hostName}/${this.containerName}/${encodeBlobPath(properties.blobName)}`,
      blobName: properties.blobName,
      lastUpdatedTime: properties.lastModified,
      blobSizeInBytes: properties.contentLength,
      enqueuedTimeUtc: now,
    };
  }

  // ---- blob storage side ----

  /** Verifies the SAS of a blob request; throws IotHubUnauthorizedAccess (403 AuthenticationFailed on the blob API). */
  async authorizeBlobRequest(containerName: string, blobName: string, query: URLSearchParams, permission: BlobPermission): Promise<void> {
    verifyBlobSas(query, { containerName, blobName }, { key: await this.#key(), nowMs: this.#deps.clock.now(), permission });
  }

  /** Put Block: stages a block within the device's quota. */
  putBlock(blobName: string, blockId: string, body: BlobBody, declaredLength?: number): Promise<{ length: number; contentMd5: string }> {
    return this.#withinQuota(blobName, declaredLength, (maxBytes) => this.#deps.blobs.putBlock(blobName, blockId, body, maxBytes));
  }

  /** Put Blob: the whole content at once, within the device's quota. */
  putBlob(blobName: string, body: BlobBody, headers: BlobHttpHeaders, declaredLength?: number): Promise<BlobProperties> {
    return this.#withinQuota(blobName, declaredLength, (maxBytes) =>
      this.#deps.blobs.putBlob(blobName, body, headers, maxBytes, this.#deps.clock.now()),
    );
  }

  /** Put Block List: commits staged blocks (no new bytes, so no quota check; a refused upload stays refused). */
  async commitBlockList(blobName: string, blockIds: readonly string[], headers: BlobHttpHeaders): Promise<CommitResult> {
    this.#assertNotRefused(blobName);
    const properties = await this.#deps.blobs.commitBlocks(blobName, blockIds, headers, this.#deps.clock.now());
    return properties ? { isCommitted: true, properties } : { isCommitted: false, reason: 'invalidBlockList' };
  }

  getBlobProperties(blobName: string): Promise<BlobProperties | undefined> {
    return this.#deps.blobs.getProperties(blobName);
  }

  readBlob(blobName: string, range?: { start: number; end: number }): Promise<ReadableStream<Uint8Array> | undefined> {
    return this.#deps.blobs.read(blobName, range);
  }

  #assertNotRefused(blobName: string): void {
    if (this.#isRefused(blobName)) throw deviceFileQuotaExceeded(deviceIdOfBlob(blobName));
    this.#refused.delete(blobName);
  }

  /**
   * Runs a write with the bytes it may add: the device's quota less what it stores and what other
   * writes in flight reserved. A write past it refuses the whole upload: its staged blocks are
   * deleted now and any block of it still in flight is deleted when it lands.
   */
  async #withinQuota<T>(blobName: string, declaredLength: number | undefined, write: (maxBytes: number) => Promise<T>): Promise<T> {
    this.#assertNotRefused(blobName);
    const deviceId = deviceIdOfBlob(blobName);
    const quota = (await this.getSettings()).deviceQuotaBytes;
    const reserved = await this.#serialised(deviceId, async () => {
      if (this.#isRefused(blobName)) return undefined;
      const available = quota - (await this.#deps.blobs.usageBytes(deviceId)) - (this.#reserved.get(deviceId) ?? 0);
      const wanted = declaredLength ?? Math.max(available, 0);
      if (wanted > available) return undefined;
      this.#reserved.set(deviceId, (this.#reserved.get(deviceId) ?? 0) + wanted);
      return wanted;
    });
    if (reserved === undefined) {
      await this.#refuse(blobName);
      throw deviceFileQuotaExceeded(deviceId, quota);
    }
    let result: T;
    try {
      result = await write(reserved);
    } catch (error) {
      if (error instanceof BlobBodyTooLargeError) await this.#refuse(blobName);
      // A write cut short because its upload was refused meanwhile fails for the same reason.
      if (this.#isRefused(blobName)) throw deviceFileQuotaExceeded(deviceId, quota);
      throw error;
    } finally {
      const left = (this.#reserved.get(deviceId) ?? 0) - reserved;
      if (left > 0) this.#reserved.set(deviceId, left);
      else this.#reserved.delete(deviceId);
    }
    // Refused while this write was in flight: what it wrote goes too, and it is not acknowledged.
    if (this.#isRefused(blobName)) {
      await this.#deps.blobs.deleteStaged(blobName);
      throw deviceFileQuotaExceeded(deviceId, quota);
    }
    return result;
  }

  #isRefused(blobName: string): boolean {
    const until = this.#refused.get(blobName);
    return until !== undefined && until > this.#deps.clock.now();
  }

  async #refuse(blobName: string): Promise<void> {
    this.#refused.set(blobName, this.#deps.clock.now() + REFUSAL_MEMORY_MS);
    await this.#deps.blobs.deleteStaged(blobName);
    this.#deps.logger.warn('file_upload_refused_over_quota', { deviceId: deviceIdOfBlob(blobName), blobName });
  }

  #serialised<T>(deviceId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#quotaQueues.get(deviceId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => {});
    this.#quotaQueues.set(deviceId, tail);
    void tail.then(() => {
      if (this.#quotaQueues.get(deviceId) === tail) this.#quotaQueues.delete(deviceId);
    });
    return next;
  }

  // ---- service side: files and notifications ----

  listFiles(deviceId: string): Promise<BlobProperties[]> {
    return this.#deps.blobs.list(deviceId);
  }

  /** A stored file of the device by the name it uploaded it as (without the `{deviceId}/` prefix). */
  async readFile(deviceId: string, name: string): Promise<{ properties: BlobProperties; body: ReadableStream<Uint8Array> }> {
    const blobName = `${deviceId}/${name}`;
    const properties = await this.#deps.blobs.getProperties(blobName);
    const body = properties && (await this.#deps.blobs.read(blobName));
    if (!properties || !body) throw notFound(`File '${name}' of device '${deviceId}'`);
    return { properties, body };
  }

  async deleteFile(deviceId: string, name: string): Promise<void> {
    if (!(await this.#deps.blobs.delete(`${deviceId}/${name}`))) throw notFound(`File '${name}' of device '${deviceId}'`);
    this.#deps.logger.info('file_deleted', { deviceId, name });
  }

  listNotifications(query: { deviceId?: string; limit: number }): Promise<FileNotification[]> {
    return this.#deps.store.listNotifications(query);
  }

  /** For the file-notification receiver: takes notifications for `lockMs` (release or delete them). */
  takeNotifications(max: number, lockMs: number): Promise<FileNotification[]> {
    const now = this.#deps.clock.now();
    return this.#deps.store.takeNotifications(max, now, now + lockMs);
  }

  deleteNotifications(ids: readonly number[]): Promise<number> {
    return this.#deps.store.deleteNotifications(ids);
  }

  releaseNotifications(ids: readonly number[]): Promise<number> {
    return this.#deps.store.releaseNotifications(ids);
  }

  /** Background upkeep: forgets upload records and notifications older than `maxAgeMs`. */
  async prune(maxAgeMs: number): Promise<{ uploads: number; notifications: number }> {
    const before = this.#deps.clock.now() - maxAgeMs;
    const [uploads, notifications] = await Promise.all([this.#deps.store.pruneUploads(before), this.#deps.store.pruneNotifications(before)]);
    return { uploads, notifications };
  }
}
