/**
 * The lock order every statement that changes device rows keeps: all its device rows first
 * (`FOR NO KEY UPDATE`, the lock registry deletes conflict with), in device-id order, before any
 * C2D message row. Statements that keep it cannot deadlock each other, whichever devices they
 * share. The C2D store's multi-device steps and the registry's connection-state batch lock here.
 * @module
 */

import { sql, type SQL } from 'drizzle-orm';
import { devices } from '../schema/devices.ts';

/**
 * A `SELECT` to use as a `MATERIALIZED` CTE: locks the devices named by `deviceIds` (a subquery)
 * and answers their current generationId and queue size. A row locked after waiting is read as
 * the concurrent transaction left it, so `queued` is current even when the statement's snapshot
 * is older.
 */
export const lockDevicesInOrder = (deviceIds: SQL): SQL => sql`
  select device_id, generation_id, cloud_to_device_message_count as queued from ${devices}
  where device_id in (${deviceIds}) order by device_id for no key update`;
