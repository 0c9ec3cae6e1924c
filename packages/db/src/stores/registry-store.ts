/**
 * RegistryStore on drizzle: devices and modules with compare-and-set on etag_version. Row ↔
 * record mapping lives here and nowhere else. A device or module replaced or deleted is announced
 * on the identity change channel in the write's own transaction (identity-change-feed.ts), so
 * other hub processes hear of it exactly when it commits. Connection states of many identities
 * go as one statement with one JSON parameter, as event appends do (event-store.ts).
 * @module
 */

import { and, asc, count, desc, eq, gt, ilike, sql } from 'drizzle-orm';
import type {
  Authentication,
  ConnectionStateChange,
  Device,
  DeviceListPage,
  DeviceSearch,
  Module,
  RegistryStore,
  TwinState,
} from '@tributary/core';
import type { HubDatabase } from '../database.ts';
import { IDENTITY_CHANGED_CHANNEL } from '../identity-change-feed.ts';
import { devices, modules } from '../schema/index.ts';
import { lockDevicesInOrder } from './device-locks.ts';
import { twinColumnsOf } from './twin-columns.ts';

type DeviceRow = typeof devices.$inferSelect;
type ModuleRow = typeof modules.$inferSelect;
type IdentityRow = DeviceRow | ModuleRow;

function authenticationOf(row: IdentityRow): Authentication {
  return {
    type: row.authType,
    symmetricKey: { primaryKey: row.primaryKey, secondaryKey: row.secondaryKey },
    x509Thumbprint: { primaryThumbprint: row.primaryThumbprint, secondaryThumbprint: row.secondaryThumbprint },
  };
}

function authenticationColumns(authentication: Authentication) {
  return {
    authType: authentication.type,
    primaryKey: authentication.symmetricKey.primaryKey,
    secondaryKey: authentication.symmetricKey.secondaryKey,
    primaryThumbprint: authentication.x509Thumbprint.primaryThumbprint,
    secondaryThumbprint: authentication.x509Thumbprint.secondaryThumbprint,
  };
}

function commonOf(row: IdentityRow) {
  return {
    deviceId: row.deviceId,
    generationId: row.generationId,
    etagVersion: row.etagVersion,
    connectionState: row.connectionState,
    connectionStateUpdatedTime: row.connectionStateUpdatedTime,
    lastActivityTime: row.lastActivityTime,
    cloudToDeviceMessageCount: row.cloudToDeviceMessageCount,
    authentication: authenticationOf(row),
  };
}

/** Columns a registry write sets: never connection state, activity or the C2D count (owned elsewhere). */
function commonColumns(identity: Device | Module) {
  return {
    deviceId: identity.deviceId,
    generationId: identity.generationId,
    etagVersion: identity.etagVersion,
    ...authenticationColumns(identity.authentication),
  };
}

/** What an insert adds to commonColumns: the bookkeeping a new identity starts with. */
const bookkeepingColumns = (identity: Device | Module) => ({
  connectionState: identity.connectionState,
  connectionStateUpdatedTime: identity.connectionStateUpdatedTime,
  lastActivityTime: identity.lastActivityTime,
  cloudToDeviceMessageCount: identity.cloudToDeviceMessageCount,
});

const deviceOf = (row: DeviceRow): Device => ({
  ...commonOf(row),
  status: row.status,
  statusReason: row.statusReason,
  statusUpdatedTime: row.statusUpdatedTime,
  capabilities: { iotEdge: row.iotEdge },
  deviceScope: row.deviceScope,
  parentScopes: row.parentScopes,
});

const deviceColumns = (device: Device) => ({
  ...commonColumns(device),
  status: device.status,
  statusReason: device.statusReason,
  statusUpdatedTime: device.statusUpdatedTime,
  iotEdge: device.capabilities.iotEdge,
  deviceScope: device.deviceScope,
  parentScopes: device.parentScopes,
});

const moduleOf = (row: ModuleRow): Module => ({ ...commonOf(row), moduleId: row.moduleId, managedBy: row.managedBy });
const moduleColumns = (module: Module) => ({ ...commonColumns(module), moduleId: module.moduleId, managedBy: module.managedBy });

/** Connection states as the JSON document `json_to_recordset` expands; short keys keep it small. */
function connectionsJson(changes: readonly ConnectionStateChange[]): string {
  return JSON.stringify(
    changes.map((change) => ({
      d: change.deviceId,
      m: change.moduleId,
      s: change.isConnected ? 'Connected' : 'Disconnected',
      t: change.atMs,
      a: change.lastActivityTime,
    })),
  );
}

/** The identity reads of authentication, built once: drizzle's query building costs more than the read. */
function identityReads(db: HubDatabase) {
  return {
    device: db
      .select()
      .from(devices)
      .where(eq(devices.deviceId, sql.placeholder('deviceId')))
      .prepare('registry_get_device'),
    module: db
      .select()
      .from(modules)
      .where(and(eq(modules.deviceId, sql.placeholder('deviceId')), eq(modules.moduleId, sql.placeholder('moduleId'))))
      .prepare('registry_get_module'),
  };
}

export class DrizzleRegistryStore implements RegistryStore {
  #reads: ReturnType<typeof identityReads> | undefined;

  /** `isInTransaction` for the store `transaction` hands its work: its writes already share one transaction. */
  constructor(
    private readonly db: HubDatabase,
    private readonly isInTransaction = false,
  ) {}

  async insertDevice(device: Device, twin: TwinState): Promise<boolean> {
    const inserted = await this.db
      .insert(devices)
      .values({ ...deviceColumns(device), ...bookkeepingColumns(device), ...twinColumnsOf(twin) })
      .onConflictDoNothing()
      .returning({ deviceId: devices.deviceId });
    return inserted.length === 1;
  }

  async getDevice(deviceId: string): Promise<Device | undefined> {
    const [row] = await this.#identityReads().device.execute({ deviceId });
    return row ? deviceOf(row) : undefined;
  }

  async updateDevice(device: Device, expectedEtagVersion: number): Promise<boolean> {
    return this.#announced(device.deviceId, async (db) => {
      const updated = await db
        .update(devices)
        .set(deviceColumns(device))
        .where(and(eq(devices.deviceId, device.deviceId), eq(devices.etagVersion, expectedEtagVersion)))
        .returning({ deviceId: devices.deviceId });
      return updated.length === 1;
    });
  }

  async deleteDevice(deviceId: string, expectedEtagVersion?: number): Promise<boolean> {
    const condition =
      expectedEtagVersion === undefined
        ? eq(devices.deviceId, deviceId)
        : and(eq(devices.deviceId, deviceId), eq(devices.etagVersion, expectedEtagVersion));
    return this.#announced(deviceId, async (db) => {
      const deleted = await db.delete(devices).where(condition).returning({ deviceId: devices.deviceId });
      return deleted.length === 1;
    });
  }

  async listDevices({ limit, afterDeviceId }: DeviceListPage): Promise<Device[]> {
    const rows = await this.db
      .select()
      .from(devices)
      .where(afterDeviceId === undefined ? undefined : gt(devices.deviceId, afterDeviceId))
      .orderBy(asc(devices.deviceId))
      .limit(limit);
    return rows.map(deviceOf);
  }

  async searchDevices(search: DeviceSearch): Promise<{ total: number; devices: Device[] }> {
    const escaped = search.idContains?.replace(/[\\%_]/g, (char) => `\\${char}`);
    const where = and(
      escaped === undefined ? undefined : ilike(devices.deviceId, `%${escaped}%`),
      search.status === undefined ? undefined : eq(devices.status, search.status),
      search.connectionState === undefined ? undefined : eq(devices.connectionState, search.connectionState),
    );
    const direction = search.order === 'asc' ? asc : desc;
    // A never-active device (null lastActivityTime) is the oldest: first ascending, last descending.
    const byField =
      search.sort === 'lastActivityTime'
        ? sql`${devices.lastActivityTime} ${sql.raw(search.order === 'asc' ? 'asc nulls first' : 'desc nulls last')}`
        : direction(devices[search.sort]);
    const [counted] = await this.db.select({ total: count() }).from(devices).where(where);
    const rows = await this.db
      .select()
      .from(devices)
      .where(where)
      .orderBy(byField, asc(devices.deviceId))
      .offset(search.offset)
      .limit(search.limit);
    return { total: counted?.total ?? 0, devices: rows.map(deviceOf) };
  }

  async statistics() {
    const [row] = await this.db
      .select({
        total: count(),
        enabled: sql<number>`count(*) filter (where ${devices.status} = 'enabled')`.mapWith(Number),
      })
      .from(devices);
    const total = row?.total ?? 0;
    const enabled = row?.enabled ?? 0;
    return { totalDeviceCount: total, enabledDeviceCount: enabled, disabledDeviceCount: total - enabled };
  }

  async countConnectedDevices(): Promise<number> {
    const [row] = await this.db.select({ total: count() }).from(devices).where(eq(devices.connectionState, 'Connected'));
    return row?.total ?? 0;
  }

  async insertModule(module: Module, twin: TwinState): Promise<boolean> {
    // The parent row is locked FOR SHARE so a concurrent delete cannot slip between the check
    // and the insert; a missing device is then a plain `false`, not a foreign-key error.
    return this.db.transaction(async (tx) => {
      const [parent] = await tx
        .select({ deviceId: devices.deviceId })
        .from(devices)
        .where(eq(devices.deviceId, module.deviceId))
        .for('share');
      if (!parent) return false;
      const inserted = await tx
        .insert(modules)
        .values({ ...moduleColumns(module), ...bookkeepingColumns(module), ...twinColumnsOf(twin) })
        .onConflictDoNothing()
        .returning({ moduleId: modules.moduleId });
      return inserted.length === 1;
    });
  }

  async getModule(deviceId: string, moduleId: string): Promise<Module | undefined> {
    const [row] = await this.#identityReads().module.execute({ deviceId, moduleId });
    return row ? moduleOf(row) : undefined;
  }

  async updateModule(module: Module, expectedEtagVersion: number): Promise<boolean> {
    return this.#announced(module.deviceId, async (db) => {
      const updated = await db
        .update(modules)
        .set(moduleColumns(module))
        .where(
          and(
            eq(modules.deviceId, module.deviceId),
            eq(modules.moduleId, module.moduleId),
            eq(modules.etagVersion, expectedEtagVersion),
          ),
        )
        .returning({ moduleId: modules.moduleId });
      return updated.length === 1;
    });
  }

  async deleteModule(deviceId: string, moduleId: string, expectedEtagVersion?: number): Promise<boolean> {
    const identity = and(eq(modules.deviceId, deviceId), eq(modules.moduleId, moduleId));
    const condition = expectedEtagVersion === undefined ? identity : and(identity, eq(modules.etagVersion, expectedEtagVersion));
    return this.#announced(deviceId, async (db) => {
      const deleted = await db.delete(modules).where(condition).returning({ moduleId: modules.moduleId });
      return deleted.length === 1;
    });
  }

  async listModules(deviceId: string): Promise<Module[]> {
    const rows = await this.db.select().from(modules).where(eq(modules.deviceId, deviceId)).orderBy(asc(modules.moduleId));
    return rows.map(moduleOf);
  }

  async setCloudToDeviceMessageCount(deviceId: string, count: number): Promise<void> {
    await this.db.update(devices).set({ cloudToDeviceMessageCount: count }).where(eq(devices.deviceId, deviceId));
  }

  /**
   * Devices and modules in one statement: one CTE updates the devices, the outer update the
   * modules. Device rows are locked first, in the order of device-locks.ts (the count in the
   * InitPlan runs before the first update).
   */
  async recordConnections(changes: readonly ConnectionStateChange[]): Promise<void> {
    if (changes.length === 0) return;
    await this.db.execute(sql`
      with changes as (
        select d, m, s, 'epoch'::timestamptz + t * interval '1 millisecond' as t,
               'epoch'::timestamptz + a * interval '1 millisecond' as a
        from json_to_recordset(${connectionsJson(changes)}::text::json) as r(d text, m text, s text, t bigint, a bigint)
      ), locked as materialized (${lockDevicesInOrder(sql`select d from changes where m is null`)}
      ), device_changes as (
        update devices set connection_state = c.s, connection_state_updated_time = c.t,
                           last_activity_time = coalesce(c.a, devices.last_activity_time)
        from changes c
        where (select count(*) from locked) >= 0 and c.m is null and devices.device_id = c.d
      )
      update modules set connection_state = c.s, connection_state_updated_time = c.t,
                         last_activity_time = coalesce(c.a, modules.last_activity_time)
      from changes c
      where c.m is not null and modules.device_id = c.d and modules.module_id = c.m`);
  }

  async transaction<T>(work: (store: RegistryStore) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(new DrizzleRegistryStore(tx as unknown as HubDatabase, true)));
  }

  #identityReads(): ReturnType<typeof identityReads> {
    this.#reads ??= identityReads(this.db);
    return this.#reads;
  }

  /**
   * Runs an identity write and, when it changed a row, announces the device on the identity
   * change channel in the same transaction: NOTIFY is delivered at commit, and not at all on
   * rollback.
   */
  async #announced(deviceId: string, write: (db: HubDatabase) => Promise<boolean>): Promise<boolean> {
    const writeAndAnnounce = async (db: HubDatabase) => {
      const isChanged = await write(db);
      if (isChanged) await db.execute(sql`select pg_notify(${IDENTITY_CHANGED_CHANNEL}, ${deviceId})`);
      return isChanged;
    };
    if (this.isInTransaction) return writeAndAnnounce(this.db);
    return this.db.transaction((tx) => writeAndAnnounce(tx as unknown as HubDatabase));
  }
}
