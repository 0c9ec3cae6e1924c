/**
 * Column sets shared by more than one table: the identity bookkeeping and twin of devices and
 * modules, which IoT Hub defines identically for both.
 * @module
 */

import { customType, integer, jsonb, text, timestamp } from 'drizzle-orm/pg-core';
import type { JsonObject } from '@tributary/core';

/** Timestamps with time zone, read and written as epoch milliseconds. */
export const epochMs = customType<{ data: number; driverData: string | Date }>({
  dataType: () => 'timestamp(3) with time zone',
  toDriver: (value) => new Date(value).toISOString(),
  fromDriver: (value) => (value instanceof Date ? value.getTime() : Date.parse(value)),
});

/** Identifiers compare bytewise (ASCII order) on every database, so keyset paging is portable. */
export const identifier = customType<{ data: string }>({ dataType: () => 'text COLLATE "C"' });

export const jsonObject = (name: string) => jsonb(name).$type<JsonObject>().notNull().default({});

export const identityColumns = () => ({
  deviceId: identifier('device_id').notNull(),
  generationId: text('generation_id').notNull(),
  etagVersion: integer('etag_version').notNull(),
  connectionState: text('connection_state', { enum: ['Connected', 'Disconnected'] }).notNull(),
  connectionStateUpdatedTime: epochMs('connection_state_updated_time'),
  lastActivityTime: epochMs('last_activity_time'),
  cloudToDeviceMessageCount: integer('cloud_to_device_message_count').notNull().default(0),
  authType: text('auth_type', { enum: ['sas', 'selfSigned', 'certificateAuthority', 'none'] }).notNull(),
  primaryKey: text('primary_key'),
  secondaryKey: text('secondary_key'),
  primaryThumbprint: text('primary_thumbprint'),
  secondaryThumbprint: text('secondary_thumbprint'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const twinColumns = () => ({
  tags: jsonObject('tags'),
  desired: jsonObject('desired'),
  reported: jsonObject('reported'),
  desiredMetadata: jsonObject('desired_metadata'),
  reportedMetadata: jsonObject('reported_metadata'),
  desiredVersion: integer('desired_version').notNull().default(1),
  reportedVersion: integer('reported_version').notNull().default(1),
  twinVersion: integer('twin_version').notNull().default(1),
  modelId: text('model_id'),
});
