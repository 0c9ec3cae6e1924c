/**
 * TwinStore on drizzle: the twin columns of the devices and modules rows (twinColumns in
 * schema/columns.ts), many twins per statement, with compare-and-set on twin_version. Identity
 * columns are never written here, and rows are never inserted or deleted: the registry store
 * owns the rows. Row ↔ StoredTwin mapping lives here and nowhere else.
 * @module
 */

import { and, eq, sql } from 'drizzle-orm';
import type { StoredTwin, TwinStore, TwinTarget, TwinUpdate } from '@tributary/core';
import type { HubDatabase } from '../database.ts';
import { devices, modules } from '../schema/index.ts';
import { lockDevicesInOrder } from './device-locks.ts';
import { rowsOf } from './raw-sql.ts';

interface TwinRow {
  device_id: string;
  module_id: string | null;
  tags: StoredTwin['state']['tags'];
  desired: StoredTwin['state']['desired'];
  reported: StoredTwin['state']['reported'];
  desired_metadata: StoredTwin['state']['desiredMetadata'];
  reported_metadata: StoredTwin['state']['reportedMetadata'];
  desired_version: number;
  reported_version: number;
  twin_version: number;
  model_id: string | null;
}

const twinKey = (deviceId: string, moduleId: string | null) => (moduleId === null ? deviceId : `${deviceId}\u0000${moduleId}`);

const storedTwinOf = (row: TwinRow): StoredTwin => ({
  state: {
    tags: row.tags,
    desired: row.desired,
    reported: row.reported,
    desiredMetadata: row.desired_metadata,
    reportedMetadata: row.reported_metadata,
    desiredVersion: row.desired_version,
    reportedVersion: row.reported_version,
    version: row.twin_version,
  },
  modelId: row.model_id,
});

const TWIN_COLUMNS = sql.raw(
  'tags, desired, reported, desired_metadata, reported_metadata, desired_version, reported_version, twin_version, model_id',
);

/** The twin columns set from `input` (see `updateTwins`), the same for both tables. */
const SET_TWIN = sql.raw(`tags = input.tags, desired = input.desired, reported = input.reported,
  desired_metadata = input.desired_metadata, reported_metadata = input.reported_metadata,
  desired_version = input.desired_version, reported_version = input.reported_version, twin_version = input.twin_version`);

/** Updates as the JSON document `json_to_recordset` expands: `i` its index, `v` the expected version. */
function updatesJson(updates: readonly TwinUpdate[]): string {
  return JSON.stringify(
    updates.map(({ deviceId, moduleId, next, expectedVersion }, index) => ({
      i: index,
      d: deviceId,
      m: moduleId,
      v: expectedVersion,
      tags: next.tags,
      desired: next.desired,
      reported: next.reported,
      desired_metadata: next.desiredMetadata,
      reported_metadata: next.reportedMetadata,
      desired_version: next.desiredVersion,
      reported_version: next.reportedVersion,
      twin_version: next.version,
    })),
  );
}

export class DrizzleTwinStore implements TwinStore {
  constructor(private readonly db: HubDatabase) {}

  /** One statement for devices and modules together. */
  async getTwins(targets: readonly TwinTarget[]): Promise<(StoredTwin | undefined)[]> {
    if (targets.length === 0) return [];
    const wanted = JSON.stringify(targets.map(({ deviceId, moduleId }) => ({ d: deviceId, m: moduleId })));
    const result = await this.db.execute(sql`
      with wanted as (
        select * from json_to_recordset(${wanted}::json) as x(d text, m text)
      )
      select device_id, null as module_id, ${TWIN_COLUMNS} from ${devices}
      where device_id in (select d from wanted where m is null)
      union all
      select device_id, module_id, ${TWIN_COLUMNS} from ${modules}
      where (device_id, module_id) in (select d, m from wanted where m is not null)`);
    const found = new Map(rowsOf<TwinRow>(result).map((row) => [twinKey(row.device_id, row.module_id), storedTwinOf(row)]));
    return targets.map(({ deviceId, moduleId }) => found.get(twinKey(deviceId, moduleId)));
  }

  /**
   * One statement: locks the device rows in id order (device-locks.ts), then the module rows in
   * id order, before writing any, so batches sharing twins (other hub processes) or devices (C2D,
   * connection states) cannot deadlock; then writes each twin whose version is still the
   * expected one. A row changed by a concurrent commit is compared at its newest version.
   */
  async updateTwins(updates: readonly TwinUpdate[]): Promise<boolean[]> {
    if (updates.length === 0) return [];
    const result = await this.db.execute(sql`
      with input as (
        select * from json_to_recordset(${updatesJson(updates)}::json) as x(i integer, d text, m text, v integer,
          tags jsonb, desired jsonb, reported jsonb, desired_metadata jsonb, reported_metadata jsonb,
          desired_version integer, reported_version integer, twin_version integer)
      ), locked_devices as materialized (${lockDevicesInOrder(sql`select d from input where m is null`)}
      ), locked_modules as materialized (
        select device_id, module_id from ${modules}
        where (device_id, module_id) in (select d, m from input where m is not null)
        order by device_id, module_id for no key update
      ), device_twins as (
        update ${devices} set ${SET_TWIN} from input
        where (select count(*) from locked_devices) >= 0
          and input.m is null and devices.device_id = input.d and devices.twin_version = input.v
        returning input.i
      ), module_twins as (
        update ${modules} set ${SET_TWIN} from input
        where (select count(*) from locked_modules) >= 0
          and input.m is not null and modules.device_id = input.d and modules.module_id = input.m and modules.twin_version = input.v
        returning input.i
      )
      select i from device_twins union all select i from module_twins`);
    const written = new Set(rowsOf<{ i: number }>(result).map((row) => row.i));
    return updates.map((_, index) => written.has(index));
  }

  async setModelId(deviceId: string, moduleId: string | null, modelId: string | null): Promise<boolean> {
    const updated =
      moduleId === null
        ? await this.db.update(devices).set({ modelId }).where(eq(devices.deviceId, deviceId)).returning({ deviceId: devices.deviceId })
        : await this.db
            .update(modules)
            .set({ modelId })
            .where(and(eq(modules.deviceId, deviceId), eq(modules.moduleId, moduleId)))
            .returning({ deviceId: modules.deviceId });
    return updated.length === 1;
  }
}
