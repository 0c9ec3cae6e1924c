/**
 * The store interfaces ("ports") core needs; packages/db implements them on PGlite and
 * PostgreSQL and `testing/memory-stores.ts` in memory. All three pass the same contract suite
 * (`testing/store-contract.ts`). Stores are dumb: compare-and-set on `etagVersion`, no rules.
 * @module
 */

import type { ConnectionState, Device, DeviceStatus, Module, RegistryStatistics, TwinState } from './identity/types.ts';
import type { ConsoleSession } from './operators/console-session.ts';
import type { SharedAccessPolicy } from './auth/policies.ts';
import type { Operator } from './operators/operator.ts';
import type { CertificateStore } from './auth/certificate-store.ts';
import type { TwinStore } from './twins/twin-store.ts';
import type { C2dStore } from './c2d/c2d-store.ts';
import type { EventStore } from './telemetry/event-stream.ts';
import type { FileStore } from './files/file-store.ts';

export interface DeviceListPage {
  /** At most this many devices, ordered by deviceId. */
  limit: number;
  /** Only devices whose id sorts after this one (keyset paging). */
  afterDeviceId?: string;
}

export const DEVICE_SORT_FIELDS = ['deviceId', 'status', 'connectionState', 'lastActivityTime'] as const;
export type DeviceSortField = (typeof DEVICE_SORT_FIELDS)[number];

/** A filtered, sorted page of devices (the console's device list). Ties sort by deviceId. */
export interface DeviceSearch {
  /** Case-insensitive substring of the deviceId. */
  idContains?: string;
  status?: DeviceStatus;
  connectionState?: ConnectionState;
  sort: DeviceSortField;
  order: 'asc' | 'desc';
  offset: number;
  limit: number;
}

/** A connection or disconnection of a device or module; a null `lastActivityTime` leaves the stored one. */
export interface ConnectionStateChange {
  deviceId: string;
  moduleId: string | null;
  isConnected: boolean;
  atMs: number;
  lastActivityTime: number | null;
}

export interface RegistryStore {
  /** Inserts a device with its initial twin; false when the id is taken. */
  insertDevice(device: Device, twin: TwinState): Promise<boolean>;
  getDevice(deviceId: string): Promise<Device | undefined>;
  /**
   * Replaces the identity fields when the stored etagVersion equals `expectedEtagVersion`; false
   * otherwise (or when gone). Never writes what other parts own: connection state,
   * lastActivityTime and cloudToDeviceMessageCount.
   */
  updateDevice(device: Device, expectedEtagVersion: number): Promise<boolean>;
  /** Deletes the device and its modules when the stored etagVersion equals `expectedEtagVersion` (any version when undefined). */
  deleteDevice(deviceId: string, expectedEtagVersion?: number): Promise<boolean>;
  listDevices(page: DeviceListPage): Promise<Device[]>;
  /** One page of the devices matching the search, and how many match in all. */
  searchDevices(search: DeviceSearch): Promise<{ total: number; devices: Device[] }>;
  statistics(): Promise<RegistryStatistics>;
  countConnectedDevices(): Promise<number>;

  insertModule(module: Module, twin: TwinState): Promise<boolean>;
  getModule(deviceId: string, moduleId: string): Promise<Module | undefined>;
  /** As updateDevice, for modules. */
  updateModule(module: Module, expectedEtagVersion: number): Promise<boolean>;
  /** Sets a device's queued cloud-to-device message count (the C2D store keeps it true). */
  setCloudToDeviceMessageCount(deviceId: string, count: number): Promise<void>;
  /**
   * Records connections and disconnections of devices and modules, all of them in one statement
   * where the store can (no etag change, as in IoT Hub). At most one change per identity; an
   * identity that is gone is skipped.
   */
  recordConnections(changes: readonly ConnectionStateChange[]): Promise<void>;
  deleteModule(deviceId: string, moduleId: string, expectedEtagVersion?: number): Promise<boolean>;
  listModules(deviceId: string): Promise<Module[]>;

  /** Runs `work` in one transaction: all of its writes land, or none do when it throws. */
  transaction<T>(work: (store: RegistryStore) => Promise<T>): Promise<T>;
}

/** What an identity change feed tells its listener. */
export interface IdentityChangeListener {
  /** A device or one of its modules was changed or deleted (its keys, status, authentication…). */
  identityChanged(deviceId: string): void;
  /** Changes may have gone unheard (the feed reconnected): forget everything learnt before. */
  changesMissed(): void;
}

/**
 * Identity changes committed by any hub process sharing the database (DESIGN.md §6), for what
 * this process keeps of identities in memory (the device authenticator's cache). A process hears
 * its own changes too, later than it made them, so it invalidates its own at once as well.
 */
export interface IdentityChangeFeed {
  /** Resolves once listening; the function it resolves to stops listening. */
  subscribe(listener: IdentityChangeListener): Promise<() => Promise<void>>;
}

export interface PolicyStore {
  list(): Promise<SharedAccessPolicy[]>;
  /** Inserts or replaces the policy with this keyName. */
  upsert(policy: SharedAccessPolicy): Promise<void>;
  delete(keyName: string): Promise<boolean>;
}

/** Hub-wide settings as a small key → JSON value table (idScope, file upload settings, …). */
export interface SettingsStore {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T): Promise<void>;
}

export interface OperatorStore {
  /** False when the username is taken. */
  insert(operator: Operator): Promise<boolean>;
  getByUsername(username: string): Promise<Operator | undefined>;
  list(): Promise<Operator[]>;
  count(): Promise<number>;
  /** False when there is no such operator. */
  setPasswordHash(username: string, passwordHash: string): Promise<boolean>;
  /** Deletes the operator and its sessions; false when there is no such operator. */
  delete(username: string): Promise<boolean>;
}

export interface ConsoleSessionStore {
  insert(session: ConsoleSession): Promise<void>;
  get(id: string): Promise<ConsoleSession | undefined>;
  setExpiresAt(id: string, expiresAt: number): Promise<void>;
  delete(id: string): Promise<void>;
  /** Revokes every session of `username` but `exceptId`. */
  deleteForOperator(username: string, exceptId?: string): Promise<void>;
  /** Removes sessions that expired before `now`; returns how many. */
  deleteExpired(now: number): Promise<number>;
}

/** Everything core needs from storage, opened once by the composition root. */
export interface HubStores {
  registry: RegistryStore;
  policies: PolicyStore;
  settings: SettingsStore;
  operators: OperatorStore;
  consoleSessions: ConsoleSessionStore;
  certificates: CertificateStore;
  twins: TwinStore;
  c2d: C2dStore;
  events: EventStore;
  files: FileStore;
}
