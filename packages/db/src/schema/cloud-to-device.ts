/**
 * Cloud-to-device queues and their feedback. `c2d_messages` holds every device's queue, ordered
 * by one hub-wide identity sequence (FIFO per device), and goes with its device (cascade).
 * `c2d_feedback` outlives the message and the device: the service may still want to learn the outcome.
 * @module
 */

import type { C2dAck, C2dSystemProperties, FeedbackStatusCode } from '@tributary/core';
import { bigint, customType, index, integer, jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { epochMs, identifier } from './columns.ts';
import { devices } from './devices.ts';

/**
 * Binary columns as plain Uint8Array on both drivers: PGlite returns a Uint8Array, postgres.js a
 * Buffer (copied out so callers never hold a view into a shared pool buffer).
 */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  toDriver: (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength),
  fromDriver: (value) => new Uint8Array(value),
});

const ACKS = ['none', 'positive', 'negative', 'full'] as const satisfies readonly C2dAck[];
const FEEDBACK_STATUS_CODES = [
  'Success',
  'Expired',
  'DeliveryCountExceeded',
  'Rejected',
  'Purged',
] as const satisfies readonly FeedbackStatusCode[];

export const c2dMessages = pgTable(
  'c2d_messages',
  {
    sequenceNumber: bigint('sequence_number', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    deviceId: identifier('device_id')
      .notNull()
      .references(() => devices.deviceId, { onDelete: 'cascade' }),
    deviceGenerationId: text('device_generation_id').notNull(),
    messageId: text('message_id').notNull(),
    ack: text('ack', { enum: ACKS }).notNull(),
    enqueuedTime: epochMs('enqueued_time').notNull(),
    expiryTime: epochMs('expiry_time').notNull(),
    deliveryCount: integer('delivery_count').notNull().default(0),
    lockToken: text('lock_token'),
    lockedUntil: epochMs('locked_until'),
    systemProperties: jsonb('system_properties').$type<C2dSystemProperties>().notNull(),
    applicationProperties: jsonb('application_properties').$type<Record<string, string>>().notNull(),
    body: bytea('body').notNull(),
  },
  (table) => [
    // "Oldest available for this device" and FIFO listing walk this index in order.
    index('c2d_messages_device_sequence_idx').on(table.deviceId, table.sequenceNumber),
    uniqueIndex('c2d_messages_lock_token_key').on(table.lockToken),
    // The expiry sweep finds due messages without scanning every queue.
    index('c2d_messages_expiry_time_idx').on(table.expiryTime),
  ],
);

export const c2dFeedback = pgTable(
  'c2d_feedback',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    originalMessageId: text('original_message_id').notNull(),
    deviceId: identifier('device_id').notNull(),
    deviceGenerationId: text('device_generation_id').notNull(),
    statusCode: text('status_code', { enum: FEEDBACK_STATUS_CODES }).notNull(),
    description: text('description').notNull(),
    enqueuedTime: epochMs('enqueued_time').notNull(),
    /** Hidden from other takers until then; null when never taken or released. */
    lockedUntil: epochMs('locked_until'),
  },
  (table) => [index('c2d_feedback_enqueued_time_idx').on(table.enqueuedTime)],
);
