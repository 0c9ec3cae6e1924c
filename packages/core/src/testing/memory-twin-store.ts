/**
 * The in-memory TwinStore. The memory registry store keeps each identity's twin in its own row
 * (as the database does), so this store works on that same state: a device created through the
 * registry has a twin here at once, and deleting it removes the twin. It reaches the state through
 * the registry store's `state` field, which TypeScript calls private but JavaScript keeps public;
 * the twin store contract fails loudly if that ever changes.
 * @module
 */

import type { TwinState } from '../identity/types.ts';
import type { RegistryStore } from '../ports.ts';
import type { StoredTwin, TwinStore, TwinTarget, TwinUpdate } from '../twins/twin-store.ts';

interface TwinRow {
  twin: TwinState;
  /** Kept on the registry's row object, so it goes when the identity goes. */
  modelId?: string | null;
}

interface MemoryRegistryState {
  devices: Map<string, TwinRow>;
  modules: Map<string, TwinRow>;
}

/** Must equal memory-stores.ts' key of modules. */
const moduleKey = (deviceId: string, moduleId: string) => `${deviceId}\u0000${moduleId}`;
const copy = <T>(value: T): T => structuredClone(value);

/** The state behind a registry store made by createMemoryStores(); throws for any other store. */
export function memoryRegistryState(registry: RegistryStore): MemoryRegistryState {
  const state = (registry as unknown as { state?: Partial<MemoryRegistryState> }).state;
  if (!(state?.devices instanceof Map) || !(state.modules instanceof Map)) {
    throw new TypeError('createMemoryTwinStore needs the registry store of createMemoryStores()');
  }
  return state as MemoryRegistryState;
}

class MemoryTwinStore implements TwinStore {
  constructor(private readonly state: MemoryRegistryState) {}

  #row(deviceId: string, moduleId: string | null): TwinRow | undefined {
    // Read the maps on every call: a registry transaction swaps them for its committed draft.
    return moduleId === null ? this.state.devices.get(deviceId) : this.state.modules.get(moduleKey(deviceId, moduleId));
  }

  async getTwins(targets: readonly TwinTarget[]): Promise<(StoredTwin | undefined)[]> {
    return targets.map(({ deviceId, moduleId }) => {
      const row = this.#row(deviceId, moduleId);
      return row ? { state: copy(row.twin), modelId: row.modelId ?? null } : undefined;
    });
  }

  async updateTwins(updates: readonly TwinUpdate[]): Promise<boolean[]> {
    return updates.map(({ deviceId, moduleId, next, expectedVersion }) => {
      const row = this.#row(deviceId, moduleId);
      if (!row || row.twin.version !== expectedVersion) return false;
      row.twin = copy(next);
      return true;
    });
  }

  async setModelId(deviceId: string, moduleId: string | null, modelId: string | null): Promise<boolean> {
    const row = this.#row(deviceId, moduleId);
    if (!row) return false;
    row.modelId = modelId;
    return true;
  }
}

/**
 * A TwinStore over the same memory as `registry` (the `registry` of createMemoryStores()).
 * @example
 * const stores = createMemoryStores();
 * const twins = createMemoryTwinStore(stores.registry);
 */
export function createMemoryTwinStore(registry: RegistryStore): TwinStore {
  return new MemoryTwinStore(memoryRegistryState(registry));
}
