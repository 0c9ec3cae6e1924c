/**
 * In-memory implementations of every store port, for session and adapter tests. They pass the
 * same contract suite as the database stores, so they cannot drift from them.
 * @module
 */

import type { SharedAccessPolicy } from '../auth/policies.ts';
import type { Device, Module, TwinState } from '../identity/types.ts';
import type { Operator } from '../operators/operator.ts';
import { MemoryCertificateStore } from './memory-certificate-store.ts';
import { createMemoryTwinStore } from './memory-twin-store.ts';
import { createMemoryC2dStore } from './memory-c2d-store.ts';
import { MemoryEventStore } from './memory-event-store.ts';
import { createMemoryFileStore } from './memory-file-stores.ts';
import type {
  ConnectionStateChange,
  ConsoleSessionStore,
  DeviceSearch,
  HubStores,
  OperatorStore,
  PolicyStore,
  RegistryStore,
  SettingsStore,
} from '../ports.ts';
import type { ConsoleSession } from '../operators/console-session.ts';

interface RegistryState {
  devices: Map<string, { device: Device; twin: TwinState }>;
  modules: Map<string, { module: Module; twin: TwinState }>;
}

const moduleKey = (deviceId: string, moduleId: string) => `${deviceId}\u0000${moduleId}`;
const copy = <T>(value: T): T => structuredClone(value);

/** Fields a registry replace keeps: the session registry and the C2D queue own them. */
const ownedElsewhere = (identity: Device | Module) => ({
  connectionState: identity.connectionState,
  connectionStateUpdatedTime: identity.connectionStateUpdatedTime,
  lastActivityTime: identity.lastActivityTime,
  cloudToDeviceMessageCount: identity.cloudToDeviceMessageCount,
});

/** The search order: the field (a never-active device is the oldest), then deviceId ascending. */
function compareForSearch(a: Device, b: Device, { sort, order }: DeviceSearch): number {
  const key = (device: Device) => (sort === 'lastActivityTime' ? (device.lastActivityTime ?? -Infinity) : device[sort]);
  const [x, y] = [key(a), key(b)];
  const byField = x < y ? -1 : x > y ? 1 : 0;
  if (byField !== 0) return order === 'asc' ? byField : -byField;
  return a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0;
}

class MemoryRegistryStore implements RegistryStore {
  constructor(private state: RegistryState) {}

  async insertDevice(device: Device, twin: TwinState) {
    if (this.state.devices.has(device.deviceId)) return false;
    this.state.devices.set(device.deviceId, { device: copy(device), twin: copy(twin) });
    return true;
  }

  async getDevice(deviceId: string) {
    const row = this.state.devices.get(deviceId);
    return row ? copy(row.device) : undefined;
  }

  async updateDevice(device: Device, expectedEtagVersion: number) {
    const row = this.state.devices.get(device.deviceId);
    if (!row || row.device.etagVersion !== expectedEtagVersion) return false;
    row.device = { ...copy(device), ...ownedElsewhere(row.device) };
    return true;
  }

  async deleteDevice(deviceId: string, expectedEtagVersion?: number) {
    const row = this.state.devices.get(deviceId);
    if (!row || (expectedEtagVersion !== undefined && row.device.etagVersion !== expectedEtagVersion)) return false;
    this.state.devices.delete(deviceId);
    for (const [key, entry] of this.state.modules) {
      if (entry.module.deviceId === deviceId) this.state.modules.delete(key);
    }
    return true;
  }

  async listDevices({ limit, afterDeviceId }: { limit: number; afterDeviceId?: string }) {
    return [...this.state.devices.keys()]
      .sort()
      .filter((id) => afterDeviceId === undefined || id > afterDeviceId)
      .slice(0, limit)
      .map((id) => copy(this.state.devices.get(id)!.device));
  }

  async searchDevices(search: DeviceSearch) {
    const needle = search.idContains?.toLowerCase();
    const matching = [...this.state.devices.values()]
      .map((row) => row.device)
      .filter(
        (device) =>
          (needle === undefined || device.deviceId.toLowerCase().includes(needle)) &&
          (search.status === undefined || device.status === search.status) &&
          (search.connectionState === undefined || device.connectionState === search.connectionState),
      )
      .sort((a, b) => compareForSearch(a, b, search));
    return { total: matching.length, devices: matching.slice(search.offset, search.offset + search.limit).map(copy) };
  }

  async statistics() {
    const all = [...this.state.devices.values()];
    const enabled = all.filter((row) => row.device.status === 'enabled').length;
    return { totalDeviceCount: all.length, enabledDeviceCount: enabled, disabledDeviceCount: all.length - enabled };
  }

  async countConnectedDevices() {
    return [...this.state.devices.values()].filter((row) => row.device.connectionState === 'Connected').length;
  }

  async insertModule(module: Module, twin: TwinState) {
    const key = moduleKey(module.deviceId, module.moduleId);
    if (!this.state.devices.has(module.deviceId) || this.state.modules.has(key)) return false;
    this.state.modules.set(key, { module: copy(module), twin: copy(twin) });
    return true;
  }

  async getModule(deviceId: string, moduleId: string) {
    const row = this.state.modules.get(moduleKey(deviceId, moduleId));
    return row ? copy(row.module) : undefined;
  }

  async updateModule(module: Module, expectedEtagVersion: number) {
    const row = this.state.modules.get(moduleKey(module.deviceId, module.moduleId));
    if (!row || row.module.etagVersion !== expectedEtagVersion) return false;
    row.module = { ...copy(module), ...ownedElsewhere(row.module) };
    return true;
  }

  async setCloudToDeviceMessageCount(deviceId: string, count: number) {
    const row = this.state.devices.get(deviceId);
    if (row) row.device.cloudToDeviceMessageCount = count;
  }

  async recordConnections(changes: readonly ConnectionStateChange[]) {
    for (const { deviceId, moduleId, isConnected, atMs, lastActivityTime } of changes) {
      const row =
        moduleId === null ? this.state.devices.get(deviceId)?.device : this.state.modules.get(moduleKey(deviceId, moduleId))?.module;
      if (!row) continue;
      row.connectionState = isConnected ? 'Connected' : 'Disconnected';
      row.connectionStateUpdatedTime = atMs;
      if (lastActivityTime !== null) row.lastActivityTime = lastActivityTime;
    }
  }

  async deleteModule(deviceId: string, moduleId: string, expectedEtagVersion?: number) {
    const key = moduleKey(deviceId, moduleId);
    const row = this.state.modules.get(key);
    if (!row || (expectedEtagVersion !== undefined && row.module.etagVersion !== expectedEtagVersion)) return false;
    this.state.modules.delete(key);
    return true;
  }

  async listModules(deviceId: string) {
    return [...this.state.modules.values()]
      .filter((row) => row.module.deviceId === deviceId)
      .map((row) => copy(row.module))
      .sort((a, b) => (a.moduleId < b.moduleId ? -1 : 1));
  }

  /** Works on a copy of the state and swaps it in only when `work` succeeds. */
  async transaction<T>(work: (store: RegistryStore) => Promise<T>): Promise<T> {
    const draft: RegistryState = { devices: copy(this.state.devices), modules: copy(this.state.modules) };
    const result = await work(new MemoryRegistryStore(draft));
    this.state.devices = draft.devices;
    this.state.modules = draft.modules;
    return result;
  }
}

class MemoryPolicyStore implements PolicyStore {
  #policies = new Map<string, SharedAccessPolicy>();
  async list() {
    return [...this.#policies.values()].map(copy).sort((a, b) => (a.keyName < b.keyName ? -1 : 1));
  }
  async upsert(policy: SharedAccessPolicy) {
    this.#policies.set(policy.keyName, copy(policy));
  }
  async delete(keyName: string) {
    return this.#policies.delete(keyName);
  }
}

class MemorySettingsStore implements SettingsStore {
  #values = new Map<string, unknown>();
  async get<T>(key: string) {
    return this.#values.has(key) ? copy(this.#values.get(key) as T) : undefined;
  }
  async set<T>(key: string, value: T) {
    this.#values.set(key, copy(value));
  }
}

class MemoryOperatorStore implements OperatorStore {
  #operators = new Map<string, Operator>();
  constructor(private readonly sessions: ConsoleSessionStore) {}
  async insert(operator: Operator) {
    if (this.#operators.has(operator.username)) return false;
    this.#operators.set(operator.username, copy(operator));
    return true;
  }
  async getByUsername(username: string) {
    const operator = this.#operators.get(username);
    return operator ? copy(operator) : undefined;
  }
  async list() {
    return [...this.#operators.values()].map(copy).sort((a, b) => (a.username < b.username ? -1 : 1));
  }
  async count() {
    return this.#operators.size;
  }
  async setPasswordHash(username: string, passwordHash: string) {
    const operator = this.#operators.get(username);
    if (!operator) return false;
    operator.passwordHash = passwordHash;
    return true;
  }
  async delete(username: string) {
    if (!this.#operators.delete(username)) return false;
    await this.sessions.deleteForOperator(username);
    return true;
  }
}

class MemoryConsoleSessionStore implements ConsoleSessionStore {
  #sessions = new Map<string, ConsoleSession>();
  async insert(session: ConsoleSession) {
    this.#sessions.set(session.id, copy(session));
  }
  async get(id: string) {
    const session = this.#sessions.get(id);
    return session ? copy(session) : undefined;
  }
  async setExpiresAt(id: string, expiresAt: number) {
    const session = this.#sessions.get(id);
    if (session) session.expiresAt = expiresAt;
  }
  async delete(id: string) {
    this.#sessions.delete(id);
  }
  async deleteForOperator(username: string, exceptId?: string) {
    for (const [id, session] of this.#sessions) if (session.username === username && id !== exceptId) this.#sessions.delete(id);
  }
  async deleteExpired(now: number) {
    let removed = 0;
    for (const [id, session] of this.#sessions) {
      if (session.expiresAt < now) {
        this.#sessions.delete(id);
        removed++;
      }
    }
    return removed;
  }
}

export function createMemoryStores(): HubStores {
  const registry = new MemoryRegistryStore({ devices: new Map(), modules: new Map() });
  const consoleSessions = new MemoryConsoleSessionStore();
  return {
    registry,
    policies: new MemoryPolicyStore(),
    settings: new MemorySettingsStore(),
    operators: new MemoryOperatorStore(consoleSessions),
    consoleSessions,
    certificates: new MemoryCertificateStore(),
    twins: createMemoryTwinStore(registry),
    c2d: createMemoryC2dStore(registry),
    events: new MemoryEventStore(),
    files: createMemoryFileStore(),
  };
}
