/**
 * The identities device authentication reads, kept in memory so that a device reconnecting costs
 * no database read. It owns staleness and its bound, not who invalidates: every write of an
 * identity invalidates it here (`invalidatingRegistryStore` in this process, the
 * `IdentityChangeFeed` for the other hub processes on one database), so a disabled device or a
 * regenerated key is refused on its next connect. Only what authentication reads is trusted:
 * a cached record's connection state, activity and C2D count are out of date.
 * @module
 */

import type { Clock } from '../clock.ts';
import type { Device, Module } from '../identity/types.ts';
import type { RegistryStore } from '../ports.ts';

/** Where identities are read from: the registry store, or this cache in front of it. */
export type IdentityReader = Pick<RegistryStore, 'getDevice' | 'getModule'>;

/** A cached SAS device takes about 850 bytes of heap, so 100,000 identities hold under 100 MB. */
export const DEFAULT_MAX_CACHED_IDENTITIES = 100_000;
/**
 * How long an entry is trusted without being invalidated. Invalidation is what keeps the cache
 * right; this bounds the damage should a change go unheard (another hub process's notification
 * lost while the feed could not reconnect).
 */
export const DEFAULT_IDENTITY_TTL_MS = 60_000;

export interface IdentityCacheOptions {
  store: IdentityReader;
  clock: Clock;
  /** Devices and modules kept; the least recently used go first. */
  maxIdentities?: number;
  ttlMs?: number;
}

interface Entry<T> {
  identity: T;
  expiresAtMs: number;
}

/** A device's cached record and its modules': a change of the device invalidates all of them. */
interface CachedDevice {
  device?: Entry<Device>;
  modules: Map<string, Entry<Module>>;
}

/** The reads of one device in flight, and how often it was invalidated while they ran. */
interface ReadsInFlight {
  count: number;
  invalidations: number;
}

/**
 * @example
 * const identities = new IdentityCache({ store: stores.registry, clock });
 * const registry = invalidatingRegistryStore(stores.registry, identities);
 * const authenticator = new DeviceAuthenticator({ registry: identities, … });
 */
export class IdentityCache implements IdentityReader {
  readonly #store: IdentityReader;
  readonly #clock: Clock;
  readonly #maxIdentities: number;
  readonly #ttlMs: number;
  /** Least recently used first: a Map iterates in insertion order, and a hit inserts again. */
  readonly #devices = new Map<string, CachedDevice>();
  /** Devices and modules held. */
  #size = 0;
  /**
   * Kept only while reads run, so it stays as small as the reads in flight. A read that an
   * invalidation overtook returns what it found but does not keep it: it may predate the change.
   */
  readonly #reads = new Map<string, ReadsInFlight>();

  constructor(options: IdentityCacheOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#maxIdentities = options.maxIdentities ?? DEFAULT_MAX_CACHED_IDENTITIES;
    this.#ttlMs = options.ttlMs ?? DEFAULT_IDENTITY_TTL_MS;
  }

  /** Devices and modules held. */
  get size(): number {
    return this.#size;
  }

  /** The device as last read; callers must not modify it. A missing device is read every time. */
  async getDevice(deviceId: string): Promise<Device | undefined> {
    const cached = this.#fresh(deviceId, (entry) => entry.device);
    if (cached) return cached;
    return this.#read(deviceId, () => this.#store.getDevice(deviceId), (entry, fresh) => {
      if (!entry.device) this.#size++;
      entry.device = fresh;
    });
  }

  /** As getDevice, for a module. */
  async getModule(deviceId: string, moduleId: string): Promise<Module | undefined> {
    const cached = this.#fresh(deviceId, (entry) => entry.modules.get(moduleId));
    if (cached) return cached;
    return this.#read(deviceId, () => this.#store.getModule(deviceId, moduleId), (entry, fresh) => {
      if (!entry.modules.has(moduleId)) this.#size++;
      entry.modules.set(moduleId, fresh);
    });
  }

  /** The device or one of its modules changed: forget the device and all its modules. */
  invalidate(deviceId: string): void {
    const reads = this.#reads.get(deviceId);
    if (reads) reads.invalidations++;
    const entry = this.#devices.get(deviceId);
    if (!entry) return;
    this.#devices.delete(deviceId);
    this.#size -= sizeOf(entry);
  }

  /** Forgets every identity (changes may have gone unheard). */
  clear(): void {
    for (const reads of this.#reads.values()) reads.invalidations++;
    this.#devices.clear();
    this.#size = 0;
  }

  #fresh<T>(deviceId: string, pick: (entry: CachedDevice) => Entry<T> | undefined): T | undefined {
    const entry = this.#devices.get(deviceId);
    const found = entry && pick(entry);
    if (!found || found.expiresAtMs <= this.#clock.now()) return undefined;
    this.#devices.delete(deviceId);
    this.#devices.set(deviceId, entry);
    return found.identity;
  }

  async #read<T>(
    deviceId: string,
    load: () => Promise<T | undefined>,
    keep: (entry: CachedDevice, fresh: Entry<T>) => void,
  ): Promise<T | undefined> {
    const reads = this.#reads.get(deviceId) ?? { count: 0, invalidations: 0 };
    this.#reads.set(deviceId, reads);
    reads.count++;
    const invalidationsBefore = reads.invalidations;
    try {
      const identity = await load();
      if (identity !== undefined && reads.invalidations === invalidationsBefore) {
        keep(this.#entryFor(deviceId), { identity, expiresAtMs: this.#clock.now() + this.#ttlMs });
        this.#evict(deviceId);
      }
      return identity;
    } finally {
      if (--reads.count === 0) this.#reads.delete(deviceId);
    }
  }

  /** The device's entry, made the most recently used. */
  #entryFor(deviceId: string): CachedDevice {
    const entry = this.#devices.get(deviceId) ?? { modules: new Map() };
    this.#devices.delete(deviceId);
    this.#devices.set(deviceId, entry);
    return entry;
  }

  /** Drops the least recently used devices beyond the bound, never the one just read. */
  #evict(justRead: string): void {
    for (const [deviceId, entry] of this.#devices) {
      if (this.#size <= this.#maxIdentities || deviceId === justRead) return;
      this.#devices.delete(deviceId);
      this.#size -= sizeOf(entry);
    }
  }
}

function sizeOf(entry: CachedDevice): number {
  return (entry.device ? 1 : 0) + entry.modules.size;
}
