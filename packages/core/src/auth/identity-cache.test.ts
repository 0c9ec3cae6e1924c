/**
 * IdentityCache over a counting, gateable reader and a fake clock: hits, misses, invalidation of a
 * device with its modules, reads overtaken by an invalidation (the stale-read race), the LRU
 * bound and the TTL.
 */

import { describe, expect, test } from 'bun:test';
import { newDevice } from '../identity/device-rules.ts';
import { newModule } from '../identity/module-rules.ts';
import type { Device, Module } from '../identity/types.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { Gate } from '../testing/gate.ts';
import { IdentityCache, type IdentityReader } from './identity-cache.ts';

const NOW = Date.UTC(2026, 5, 1);

/** Identities by id, counting reads; a closed gate holds reads after they looked the row up. */
class CountingReader implements IdentityReader {
  readonly devices = new Map<string, Device>();
  readonly modules = new Map<string, Module>();
  readonly gate = new Gate();
  reads = 0;

  async getDevice(deviceId: string): Promise<Device | undefined> {
    this.reads++;
    const found = this.devices.get(deviceId);
    await this.gate.pass();
    return found;
  }

  async getModule(deviceId: string, moduleId: string): Promise<Module | undefined> {
    this.reads++;
    const found = this.modules.get(`${deviceId}/${moduleId}`);
    await this.gate.pass();
    return found;
  }

  put(...deviceIds: string[]): void {
    for (const deviceId of deviceIds) this.devices.set(deviceId, newDevice({ deviceId }, NOW));
  }

  putModule(deviceId: string, moduleId: string): void {
    this.modules.set(`${deviceId}/${moduleId}`, newModule({ deviceId, moduleId }, NOW));
  }

  disable(deviceId: string): void {
    this.devices.set(deviceId, { ...this.devices.get(deviceId)!, status: 'disabled' });
  }
}

function setup(options: { maxIdentities?: number; ttlMs?: number } = {}) {
  const clock = new FakeClock(NOW);
  const store = new CountingReader();
  const cache = new IdentityCache({ store, clock, ...options });
  return { clock, store, cache };
}

describe('hits and misses', () => {
  test('a device read twice is read from the store once, and both reads return it', async () => {
    const { store, cache } = setup();
    store.put('d1');
    const first = await cache.getDevice('d1');
    const second = await cache.getDevice('d1');
    expect(second).toBe(first);
    expect(first?.deviceId).toBe('d1');
    expect(store.reads).toBe(1);
  });

  test('a module read twice is read from the store once, apart from its device', async () => {
    const { store, cache } = setup();
    store.put('d1');
    store.putModule('d1', 'm1');
    await cache.getModule('d1', 'm1');
    await cache.getModule('d1', 'm1');
    expect(store.reads).toBe(1);
    await cache.getDevice('d1');
    expect(store.reads).toBe(2);
    expect(cache.size).toBe(2);
  });

  test('a missing device is read from the store every time, so one registered later is found at once', async () => {
    const { store, cache } = setup();
    expect(await cache.getDevice('late')).toBeUndefined();
    store.put('late');
    expect((await cache.getDevice('late'))?.deviceId).toBe('late');
    expect(store.reads).toBe(2);
  });
});

describe('invalidation', () => {
  test('invalidating a device drops it and all its modules, and leaves other devices cached', async () => {
    const { store, cache } = setup();
    store.put('d1', 'd2');
    store.putModule('d1', 'm1');
    await cache.getDevice('d1');
    await cache.getModule('d1', 'm1');
    await cache.getDevice('d2');
    store.disable('d1');
    cache.invalidate('d1');
    expect(cache.size).toBe(1);
    expect((await cache.getDevice('d1'))?.status).toBe('disabled');
    await cache.getModule('d1', 'm1');
    await cache.getDevice('d2');
    expect(store.reads).toBe(5);
  });

  test('GIVEN a read that found the old row WHEN the device is invalidated before the read returns THEN the read is not kept', async () => {
    const { store, cache } = setup();
    store.put('d1');
    store.gate.close();
    const staleRead = cache.getDevice('d1');
    store.disable('d1');
    cache.invalidate('d1');
    store.gate.open();
    expect((await staleRead)?.status).toBe('enabled');
    expect((await cache.getDevice('d1'))?.status).toBe('disabled');
    expect(store.reads).toBe(2);
  });

  test('a module read overtaken by an invalidation of its device is not kept either', async () => {
    const { store, cache } = setup();
    store.put('d1');
    store.putModule('d1', 'm1');
    store.gate.close();
    const staleRead = cache.getModule('d1', 'm1');
    cache.invalidate('d1');
    store.gate.open();
    await staleRead;
    expect(cache.size).toBe(0);
  });

  test('a read that started after the invalidation is kept, while one overtaken alongside it is not', async () => {
    const { store, cache } = setup();
    store.put('d1');
    store.gate.close();
    const overtaken = cache.getDevice('d1');
    store.disable('d1');
    cache.invalidate('d1');
    const fresh = cache.getDevice('d1');
    store.gate.open();
    await Promise.all([overtaken, fresh]);
    expect((await cache.getDevice('d1'))?.status).toBe('disabled');
    expect(store.reads).toBe(2);
  });

  test('an invalidation of another device does not stop a read from being kept', async () => {
    const { store, cache } = setup();
    store.put('d1', 'd2');
    store.gate.close();
    const read = cache.getDevice('d1');
    cache.invalidate('d2');
    store.gate.open();
    await read;
    await cache.getDevice('d1');
    expect(store.reads).toBe(1);
  });

  test('clear drops every identity and stops every read in flight from being kept', async () => {
    const { store, cache } = setup();
    store.put('d1', 'd2');
    await cache.getDevice('d1');
    store.gate.close();
    const inFlight = cache.getDevice('d2');
    cache.clear();
    store.gate.open();
    await inFlight;
    expect(cache.size).toBe(0);
    await cache.getDevice('d1');
    await cache.getDevice('d2');
    expect(store.reads).toBe(4);
  });
});

describe('bounds', () => {
  test('beyond maxIdentities the least recently used device goes first, and a hit makes a device recent', async () => {
    const { store, cache } = setup({ maxIdentities: 2 });
    store.put('a', 'b', 'c');
    await cache.getDevice('a');
    await cache.getDevice('b');
    await cache.getDevice('a');
    await cache.getDevice('c');
    expect(cache.size).toBe(2);
    const reads = store.reads;
    await cache.getDevice('a');
    await cache.getDevice('c');
    expect(store.reads).toBe(reads);
    await cache.getDevice('b');
    expect(store.reads).toBe(reads + 1);
  });

  test('modules count toward maxIdentities, and evicting a device evicts its modules', async () => {
    const { store, cache } = setup({ maxIdentities: 2 });
    store.put('a', 'b');
    store.putModule('a', 'm1');
    await cache.getDevice('a');
    await cache.getModule('a', 'm1');
    await cache.getDevice('b');
    expect(cache.size).toBe(1);
    const reads = store.reads;
    await cache.getModule('a', 'm1');
    expect(store.reads).toBe(reads + 1);
  });

  test('an entry is read again once ttlMs has passed since it was read', async () => {
    const { clock, store, cache } = setup({ ttlMs: 1000 });
    store.put('d1');
    await cache.getDevice('d1');
    clock.advance(999);
    await cache.getDevice('d1');
    expect(store.reads).toBe(1);
    clock.advance(1);
    await cache.getDevice('d1');
    expect(store.reads).toBe(2);
  });
});
