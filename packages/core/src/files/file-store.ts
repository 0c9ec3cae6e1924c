/**
 * The store port of file uploads: upload records (for the active-upload limit and correlation
 * ids) and file notifications (for the service's receiver and the REST API). Dumb like every
 * port: the one rule it enforces is the atomic "count active and insert" the limit needs.
 * packages/db implements it, `testing/memory-file-stores.ts` in memory; both pass
 * `testing/files-store-contract.ts`.
 * @module
 */

import type { FileNotification, FileUpload, FileUploadState, NewFileNotification } from './file-upload.ts';

/** What completing an upload writes. */
export interface FileUploadCompletion {
  state: Exclude<FileUploadState, 'active'>;
  completedAt: number;
  statusCode: number;
  statusDescription: string;
}

export interface FileStore {
  /**
   * Inserts the upload unless its device already holds `maxActive` uploads that are active and
   * expire after `now`; atomic with respect to concurrent inserts of the same device (on
   * PostgreSQL across processes). False when refused.
   */
  insertUpload(upload: FileUpload, limit: { maxActive: number; now: number }): Promise<boolean>;
  getUpload(correlationId: string): Promise<FileUpload | undefined>;
  /** Uploads of the device that are active and expire after `now`. */
  countActiveUploads(deviceId: string, now: number): Promise<number>;
  /**
   * Completes an active upload and, in the same transaction, records `notification` when given.
   * Returns the completed upload, or undefined (nothing written) when it is not active or gone.
   */
  completeUpload(
    correlationId: string,
    completion: FileUploadCompletion,
    notification?: NewFileNotification,
  ): Promise<FileUpload | undefined>;
  /** Deletes upload records created before `createdBefore`; returns how many. */
  pruneUploads(createdBefore: number): Promise<number>;

  /** Notifications oldest first, optionally of one device (for the REST API; takes nothing). */
  listNotifications(query: { deviceId?: string; limit: number }): Promise<FileNotification[]>;
  /**
   * Takes up to `max` notifications not taken (or whose take ran out at `now`), oldest first, and
   * hides them from other takers until `lockedUntil`. Concurrent takers never get the same one.
   */
  takeNotifications(max: number, now: number, lockedUntil: number): Promise<FileNotification[]>;
  /** Deletes notifications (acknowledged); returns how many existed. */
  deleteNotifications(ids: readonly number[]): Promise<number>;
  /** Makes taken notifications available again; returns how many existed. */
  releaseNotifications(ids: readonly number[]): Promise<number>;
  /** Deletes notifications enqueued before `enqueuedBefore` (their TTL); returns how many. */
  pruneNotifications(enqueuedBefore: number): Promise<number>;
}
