/**
 * TwinStore on drizzle: the twin columns of the devices and modules rows (twinColumns in
 * schema/columns.ts), with compare-and-set on twin_version. Identity columns are never written
 * here, and rows are never inserted or deleted: the registry store owns the rows.
 * @module
 */

import { and, eq } from 'drizzle-orm';
import type { StoredTwin, TwinState, TwinStore } from '@tributary/core';
import type { HubDatabase } from '../database.ts';
import { devices, modules } from '../schema/index.ts';
import { twinColumnsOf } from './twin-columns.ts';

const twinSelection = (table: typeof devices | typeof modules) => ({
  tags: table.tags,
  desired: table.desired,
  reported: table.reported,
  desiredMetadata: table.desiredMetadata,
  reportedMetadata: table.reportedMetadata,
  desiredVersion: table.desiredVersion,
  reportedVersion: table.reportedVersion,
  twinVersion: table.twinVersion,
  modelId: table.modelId,
});

type TwinRow = Pick<typeof devices.$inferSelect, keyof ReturnType<typeof twinSelection>>;

const storedTwinOf = (row: TwinRow): StoredTwin => ({
  state: {
    tags: row.tags,
    desired: row.desired,
    reported: row.reported,
    desiredMetadata: row.desiredMetadata,
    reportedMetadata: row.reportedMetadata,
    desiredVersion: row.desiredVersion,
    reportedVersion: row.reportedVersion,
    version: row.twinVersion,
  },
  modelId: row.modelId,
});

export class DrizzleTwinStore implements TwinStore {
  constructor(private readonly db: HubDatabase) {}

  async getTwin(deviceId: string, moduleId: string | null): Promise<StoredTwin | undefined> {
    const [row] =
      moduleId === null
        ? await this.db.select(twinSelection(devices)).from(devices).where(eq(devices.deviceId, deviceId))
        : await this.db
            .select(twinSelection(modules))
            .from(modules)
            .where(and(eq(modules.deviceId, deviceId), eq(modules.moduleId, moduleId)));
    return row ? storedTwinOf(row) : undefined;
  }

  async updateTwin(deviceId: string, moduleId: string | null, next: TwinState, expectedVersion: number): Promise<boolean> {
    const updated =
      moduleId === null
        ? await this.db
            .update(devices)
            .set(twinColumnsOf(next))
            .where(and(eq(devices.deviceId, deviceId), eq(devices.twinVersion, expectedVersion)))
            .returning({ deviceId: devices.deviceId })
        : await this.db
            .update(modules)
            .set(twinColumnsOf(next))
            .where(and(eq(modules.deviceId, deviceId), eq(modules.moduleId, moduleId), eq(modules.twinVersion, expectedVersion)))
            .returning({ deviceId: modules.deviceId });
    return updated.length === 1;
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
