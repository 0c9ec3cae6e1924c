/**
 * FileStore on drizzle. An upload insert takes a transaction-scoped advisory lock on its device
 * (no device row to lock: uploads outlive the identity), so the active-upload count and the
 * insert cannot interleave with a concurrent initiation, across hub processes too.
 * Row ↔ record mapping lives here and nowhere else.
 * @module
 */

import { and, asc, count, eq, gt, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { FileNotification, FileStore, FileUpload, FileUploadCompletion, NewFileNotification } from '@tributary/core';
import type { HubDatabase } from '../database.ts';
import { fileNotifications, fileUploads } from '../schema/files.ts';

type UploadRow = typeof fileUploads.$inferSelect;
type NotificationRow = typeof fileNotifications.$inferSelect;

const uploadOf = (row: UploadRow): FileUpload => ({
  correlationId: row.correlationId,
  deviceId: row.deviceId,
  blobName: row.blobName,
  createdAt: row.createdAt,
  expiresAt: row.expiresAt,
  state: row.state,
  completedAt: row.completedAt,
  statusCode: row.statusCode,
  statusDescription: row.statusDescription,
});

const notificationOf = (row: NotificationRow): FileNotification => ({
  id: row.id,
  deviceId: row.deviceId,
  blobUri: row.blobUri,
  blobName: row.blobName,
  lastUpdatedTime: row.lastUpdatedTime,
  blobSizeInBytes: row.blobSizeInBytes,
  enqueuedTimeUtc: row.enqueuedTime,
});

const notificationColumns = (notification: NewFileNotification) => ({
  deviceId: notification.deviceId,
  blobUri: notification.blobUri,
  blobName: notification.blobName,
  lastUpdatedTime: notification.lastUpdatedTime,
  blobSizeInBytes: notification.blobSizeInBytes,
  enqueuedTime: notification.enqueuedTimeUtc,
});

const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
const unique = <T>(values: readonly T[]) => [...new Set(values)];

const activeOf = (deviceId: string, now: number) =>
  and(eq(fileUploads.deviceId, deviceId), eq(fileUploads.state, 'active'), gt(fileUploads.expiresAt, now));

export class DrizzleFileStore implements FileStore {
  constructor(private readonly db: HubDatabase) {}

  async insertUpload(upload: FileUpload, limit: { maxActive: number; now: number }): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`file_uploads/${upload.deviceId}`}))`);
      const [row] = await tx.select({ active: count() }).from(fileUploads).where(activeOf(upload.deviceId, limit.now));
      if ((row?.active ?? 0) >= limit.maxActive) return false;
      const inserted = await tx.insert(fileUploads).values(upload).onConflictDoNothing().returning({ id: fileUploads.correlationId });
      return inserted.length === 1;
    });
  }

  async getUpload(correlationId: string): Promise<FileUpload | undefined> {
    const [row] = await this.db.select().from(fileUploads).where(eq(fileUploads.correlationId, correlationId));
    return row ? uploadOf(row) : undefined;
  }

  async countActiveUploads(deviceId: string, now: number): Promise<number> {
    const [row] = await this.db.select({ active: count() }).from(fileUploads).where(activeOf(deviceId, now));
    return row?.active ?? 0;
  }

  async completeUpload(
    correlationId: string,
    completion: FileUploadCompletion,
    notification?: NewFileNotification,
  ): Promise<FileUpload | undefined> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .update(fileUploads)
        .set(completion)
        .where(and(eq(fileUploads.correlationId, correlationId), eq(fileUploads.state, 'active')))
        .returning();
      if (!row) return undefined;
      if (notification) await tx.insert(fileNotifications).values(notificationColumns(notification));
      return uploadOf(row);
    });
  }

  async pruneUploads(createdBefore: number): Promise<number> {
    const pruned = await this.db
      .delete(fileUploads)
      .where(lt(fileUploads.createdAt, createdBefore))
      .returning({ id: fileUploads.correlationId });
    return pruned.length;
  }

  async listNotifications(query: { deviceId?: string; limit: number }): Promise<FileNotification[]> {
    const rows = await this.db
      .select()
      .from(fileNotifications)
      .where(query.deviceId === undefined ? undefined : eq(fileNotifications.deviceId, query.deviceId))
      .orderBy(asc(fileNotifications.id))
      .limit(query.limit);
    return rows.map(notificationOf);
  }

  async takeNotifications(max: number, now: number, lockedUntil: number): Promise<FileNotification[]> {
    // One statement: SKIP LOCKED keeps concurrent takers (other hub processes) off each other's rows.
    const available = this.db
      .select({ id: fileNotifications.id })
      .from(fileNotifications)
      .where(or(isNull(fileNotifications.lockedUntil), lte(fileNotifications.lockedUntil, now)))
      .orderBy(asc(fileNotifications.id))
      .limit(max)
      .for('update', { skipLocked: true });
    const rows = await this.db.update(fileNotifications).set({ lockedUntil }).where(inArray(fileNotifications.id, available)).returning();
    return rows.map(notificationOf).sort(byId);
  }

  async deleteNotifications(ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const deleted = await this.db
      .delete(fileNotifications)
      .where(inArray(fileNotifications.id, unique(ids)))
      .returning({ id: fileNotifications.id });
    return deleted.length;
  }

  async releaseNotifications(ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const released = await this.db
      .update(fileNotifications)
      .set({ lockedUntil: null })
      .where(inArray(fileNotifications.id, unique(ids)))
      .returning({ id: fileNotifications.id });
    return released.length;
  }

  async pruneNotifications(enqueuedBefore: number): Promise<number> {
    const pruned = await this.db
      .delete(fileNotifications)
      .where(lt(fileNotifications.enqueuedTime, enqueuedBefore))
      .returning({ id: fileNotifications.id });
    return pruned.length;
  }
}
