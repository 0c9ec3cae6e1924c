/**
 * File uploads and file notifications. Neither references `devices`: like Azure's blob storage,
 * uploaded files (and the records about them) outlive the device identity.
 * @module
 */

import type { FileUploadState } from '@tributary/core';
import { bigint, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { epochMs, identifier } from './columns.ts';

const STATES = ['active', 'completed', 'failed'] as const satisfies readonly FileUploadState[];

export const fileUploads = pgTable(
  'file_uploads',
  {
    correlationId: text('correlation_id').primaryKey(),
    deviceId: identifier('device_id').notNull(),
    blobName: text('blob_name').notNull(),
    createdAt: epochMs('created_at').notNull(),
    expiresAt: epochMs('expires_at').notNull(),
    state: text('state', { enum: STATES }).notNull(),
    completedAt: epochMs('completed_at'),
    statusCode: integer('status_code'),
    statusDescription: text('status_description'),
  },
  (table) => [
    // The active-upload count of one device.
    index('file_uploads_device_state_idx').on(table.deviceId, table.state),
    index('file_uploads_created_at_idx').on(table.createdAt),
  ],
);

export const fileNotifications = pgTable(
  'file_notifications',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    deviceId: identifier('device_id').notNull(),
    blobUri: text('blob_uri').notNull(),
    blobName: text('blob_name').notNull(),
    lastUpdatedTime: epochMs('last_updated_time').notNull(),
    blobSizeInBytes: bigint('blob_size_in_bytes', { mode: 'number' }).notNull(),
    enqueuedTime: epochMs('enqueued_time').notNull(),
    /** Hidden from other takers until then; null when never taken or released. */
    lockedUntil: epochMs('locked_until'),
  },
  (table) => [index('file_notifications_device_id_idx').on(table.deviceId, table.id), index('file_notifications_enqueued_time_idx').on(table.enqueuedTime)],
);
