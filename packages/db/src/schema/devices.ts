/**
 * Devices of the identity registry, each with its twin in the same row.
 * @module
 */

import { boolean, index, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { epochMs, identityColumns, twinColumns } from './columns.ts';

export const devices = pgTable(
  'devices',
  {
    ...identityColumns(),
    status: text('status', { enum: ['enabled', 'disabled'] }).notNull(),
    statusReason: text('status_reason'),
    statusUpdatedTime: epochMs('status_updated_time'),
    iotEdge: boolean('iot_edge').notNull().default(false),
    deviceScope: text('device_scope'),
    parentScopes: jsonb('parent_scopes').$type<string[]>().notNull().default([]),
    ...twinColumns(),
  },
  (table) => [
    primaryKey({ name: 'devices_pkey', columns: [table.deviceId] }),
    index('devices_connection_state_idx').on(table.connectionState),
  ],
);
