/**
 * The built-in event stream: events by (partition, sequence number), each partition's head as
 * of the last prune (so numbering survives retention), consumer groups and their checkpoints.
 * `$Default` is implicit: it has a row only once something refers to it.
 * @module
 */

import { sql } from 'drizzle-orm';
import { bigint, customType, foreignKey, index, jsonb, pgTable, primaryKey, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import type { MessageSource, SystemProperties } from '@tributary/core';
import { epochMs, identifier } from './columns.ts';

/** Binary bodies. PGlite reads bytea as Uint8Array, postgres.js as Buffer; stores hand out Uint8Array. */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  toDriver: (value) => value,
  fromDriver: (value) => (value.constructor === Uint8Array ? value : new Uint8Array(value)),
});

/**
 * Every how many events of a partition one is an anchor: only anchors are indexed by offset and
 * by enqueued time. Both grow with the sequence number, so a read from an offset or a time finds
 * the nearest anchor before it and walks on by primary key, past at most this many events. Two
 * full secondary indexes cost a quarter of the database's CPU per appended event.
 */
export const EVENT_ANCHOR_EVERY = 128;
const isAnchor = sql.raw(`sequence_number % ${EVENT_ANCHOR_EVERY} = 0`);

export const events = pgTable(
  'events',
  {
    partitionId: smallint('partition_id').notNull(),
    sequenceNumber: bigint('sequence_number', { mode: 'number' }).notNull(),
    offset: bigint('offset', { mode: 'number' }).notNull(),
    enqueuedTime: epochMs('enqueued_time').notNull(),
    deviceId: identifier('device_id').notNull(),
    moduleId: identifier('module_id'),
    messageSource: text('message_source').$type<MessageSource>().notNull(),
    systemProperties: jsonb('system_properties').$type<SystemProperties>().notNull(),
    applicationProperties: jsonb('application_properties').$type<Record<string, string>>().notNull(),
    body: bytea('body').notNull(),
  },
  (table) => [
    primaryKey({ name: 'events_pkey', columns: [table.partitionId, table.sequenceNumber] }),
    index('events_anchor_enqueued_time_idx').on(table.partitionId, table.enqueuedTime).where(isAnchor),
    index('events_anchor_offset_idx').on(table.partitionId, table.offset).where(isAnchor),
  ],
);

/** Written by prune only: the newest event of each pruned partition, kept after its row goes. */
export const eventPartitionHeads = pgTable('event_partition_heads', {
  partitionId: smallint('partition_id').primaryKey(),
  lastSequenceNumber: bigint('last_sequence_number', { mode: 'number' }).notNull(),
  lastOffset: bigint('last_offset', { mode: 'number' }).notNull(),
  nextOffset: bigint('next_offset', { mode: 'number' }).notNull(),
  lastEnqueuedTime: epochMs('last_enqueued_time').notNull(),
});

export const consumerGroups = pgTable('consumer_groups', {
  name: identifier('name').primaryKey(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const checkpoints = pgTable(
  'checkpoints',
  {
    consumerGroup: identifier('consumer_group').notNull(),
    partitionId: smallint('partition_id').notNull(),
    sequenceNumber: bigint('sequence_number', { mode: 'number' }).notNull(),
    offset: bigint('offset', { mode: 'number' }).notNull(),
    updatedAt: epochMs('updated_at').notNull(),
  },
  (table) => [
    primaryKey({ name: 'checkpoints_pkey', columns: [table.consumerGroup, table.partitionId] }),
    foreignKey({ name: 'checkpoints_consumer_group_fk', columns: [table.consumerGroup], foreignColumns: [consumerGroups.name] }).onDelete(
      'cascade',
    ),
  ],
);
