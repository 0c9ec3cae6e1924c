/**
 * The registry store as this process writes through it: every write of a device or module
 * invalidates that device in the identity cache once the write has landed, before its caller
 * hears back, so the next authentication reads the change. Writes inside a transaction invalidate
 * when the transaction has ended: until it commits, a read would still find the old row and keep
 * it. Connection states and C2D counts are not what authentication reads, so they invalidate
 * nothing (they change on every connect). Other hub processes learn of changes through the
 * `IdentityChangeFeed` instead.
 * @module
 */

import type { Device, Module, RegistryStatistics, TwinState } from '../identity/types.ts';
import type { ConnectionStateChange, DeviceListPage, DeviceSearch, RegistryStore } from '../ports.ts';

/** What is told of identity writes: the identity cache, or a transaction collecting them. */
export interface IdentityInvalidation {
  invalidate(deviceId: string): void;
}

/**
 * @example
 * const registry = new IdentityRegistry({ store: invalidatingRegistryStore(stores.registry, identities), clock });
 */
export function invalidatingRegistryStore(store: RegistryStore, invalidation: IdentityInvalidation): RegistryStore {
  return new InvalidatingRegistryStore(store, invalidation);
}

class InvalidatingRegistryStore implements RegistryStore {
  readonly #store: RegistryStore;
  readonly #invalidation: IdentityInvalidation;

  constructor(store: RegistryStore, invalidation: IdentityInvalidation) {
    this.#store = store;
    this.#invalidation = invalidation;
  }

  insertDevice(device: Device, twin: TwinState): Promise<boolean> {
    return this.#writing(device.deviceId, this.#store.insertDevice(device, twin));
  }

  updateDevice(device: Device, expectedEtagVersion: number): Promise<boolean> {
    return this.#writing(device.deviceId, this.#store.updateDevice(device, expectedEtagVersion));
  }

  deleteDevice(deviceId: string, expectedEtagVersion?: number): Promise<boolean> {
    return this.#writing(deviceId, this.#store.deleteDevice(deviceId, expectedEtagVersion));
  }

  insertModule(module: Module, twin: TwinState): Promise<boolean> {
    return this.#writing(module.deviceId, this.#store.insertModule(module, twin));
  }

  updateModule(module: Module, expectedEtagVersion: number): Promise<boolean> {
    return this.#writing(module.deviceId, this.#store.updateModule(module, expectedEtagVersion));
  }

  deleteModule(deviceId: string, moduleId: string, expectedEtagVersion?: number): Promise<boolean> {
    return this.#writing(deviceId, this.#store.deleteModule(deviceId, moduleId, expectedEtagVersion));
  }

  async transaction<T>(work: (store: RegistryStore) => Promise<T>): Promise<T> {
    const written = new Set<string>();
    try {
      return await this.#store.transaction((tx) => work(new InvalidatingRegistryStore(tx, { invalidate: (id) => written.add(id) })));
    } finally {
      for (const deviceId of written) this.#invalidation.invalidate(deviceId);
    }
  }

  getDevice(deviceId: string): Promise<Device | undefined> {
    return this.#store.getDevice(deviceId);
  }

  listDevices(page: DeviceListPage): Promise<Device[]> {
    return this.#store.listDevices(page);
  }

  searchDevices(search: DeviceSearch): Promise<{ total: number; devices: Device[] }> {
    return this.#store.searchDevices(search);
  }

  statistics(): Promise<RegistryStatistics> {
    return this.#store.statistics();
  }

  countConnectedDevices(): Promise<number> {
    return this.#store.countConnectedDevices();
  }

  getModule(deviceId: string, moduleId: string): Promise<Module | undefined> {
    return this.#store.getModule(deviceId, moduleId);
  }

  listModules(deviceId: string): Promise<Module[]> {
    return this.#store.listModules(deviceId);
  }

  setCloudToDeviceMessageCount(deviceId: string, count: number): Promise<void> {
    return this.#store.setCloudToDeviceMessageCount(deviceId, count);
  }

  recordConnections(changes: readonly ConnectionStateChange[]): Promise<void> {
    return this.#store.recordConnections(changes);
  }

  /** Invalidates also when the write failed: it may have landed before the failure surfaced. */
  async #writing<T>(deviceId: string, write: Promise<T>): Promise<T> {
    try {
      return await write;
    } finally {
      this.#invalidation.invalidate(deviceId);
    }
  }
}
