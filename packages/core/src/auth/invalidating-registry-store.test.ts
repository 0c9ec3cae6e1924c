/**
 * Every way the identity registry writes a device or module, through invalidatingRegistryStore
 * over the in-memory store: afterwards a warm identity cache answers what the store holds, so
 * authentication reads the change. Writes in a transaction invalidate when it ends.
 */

import { describe, expect, test } from 'bun:test';
import { IdentityRegistry } from '../identity/registry.ts';
import { createMemoryStores } from '../testing/memory-stores.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { IdentityCache } from './identity-cache.ts';
import { invalidatingRegistryStore } from './invalidating-registry-store.ts';

const newKeys = { type: 'sas' as const, symmetricKey: { primaryKey: Buffer.alloc(32, 9).toString('base64'), secondaryKey: null } };

async function setup() {
  const clock = new FakeClock();
  const { registry: store } = createMemoryStores();
  const cache = new IdentityCache({ store, clock });
  const registryStore = invalidatingRegistryStore(store, cache);
  const registry = new IdentityRegistry({ store: registryStore, clock });
  await registry.createDevice({ deviceId: 'd1' });
  await registry.createModule({ deviceId: 'd1', moduleId: 'm1' });
  // Warm: both identities are now answered from memory.
  await cache.getDevice('d1');
  await cache.getModule('d1', 'm1');
  return { store, cache, registryStore, registry };
}

const WRITES: [string, (registry: IdentityRegistry) => Promise<unknown>][] = [
  ['updateDevice disabling the device', (registry) => registry.updateDevice({ deviceId: 'd1', status: 'disabled' }, '*')],
  ['updateDevice replacing its keys', (registry) => registry.updateDevice({ deviceId: 'd1', authentication: newKeys }, '*')],
  ['regenerateDeviceKeys', (registry) => registry.regenerateDeviceKeys('d1', 'both')],
  ['deleteDevice', (registry) => registry.deleteDevice('d1', '*')],
  ['bulk update disabling the device', (registry) => registry.bulk([{ importMode: 'update', device: { deviceId: 'd1', status: 'disabled' } }])],
  ['bulk delete', (registry) => registry.bulk([{ importMode: 'delete', device: { deviceId: 'd1' } }])],
  ['updateModule replacing its keys', (registry) => registry.updateModule({ deviceId: 'd1', moduleId: 'm1', authentication: newKeys }, '*')],
  ['regenerateModuleKeys', (registry) => registry.regenerateModuleKeys('d1', 'm1', 'swap')],
  ['deleteModule', (registry) => registry.deleteModule('d1', 'm1', '*')],
];

describe('every registry write invalidates the identity cache', () => {
  for (const [name, write] of WRITES) {
    test(`after ${name} the warm cache answers what the store holds`, async () => {
      const { store, cache, registry } = await setup();
      await write(registry);
      expect(await cache.getDevice('d1')).toEqual(await store.getDevice('d1'));
      expect(await cache.getModule('d1', 'm1')).toEqual(await store.getModule('d1', 'm1'));
    });
  }
});

describe('transactions', () => {
  test('GIVEN a transaction that disabled the device WHEN a cold read sees the old row before the commit THEN the commit still drops it', async () => {
    const { store, cache, registryStore } = await setup();
    const device = (await store.getDevice('d1'))!;
    cache.clear();
    await registryStore.transaction(async (tx) => {
      await tx.updateDevice({ ...device, etagVersion: 2, status: 'disabled' }, 1);
      expect((await cache.getDevice('d1'))?.status).toBe('enabled');
    });
    expect((await cache.getDevice('d1'))?.status).toBe('disabled');
  });

  test('a transaction that rolled back leaves the cache answering the unchanged row', async () => {
    const { store, cache, registryStore } = await setup();
    const device = (await store.getDevice('d1'))!;
    const aborted = registryStore.transaction(async (tx) => {
      await tx.updateDevice({ ...device, etagVersion: 2, status: 'disabled' }, 1);
      throw new Error('abort');
    });
    await expect(aborted).rejects.toThrow('abort');
    expect((await cache.getDevice('d1'))?.status).toBe('enabled');
  });
});

test('connection states and C2D counts leave the cache warm: they are not what authentication reads', async () => {
  const { cache, registryStore } = await setup();
  const warm = await cache.getDevice('d1');
  await registryStore.recordConnections([{ deviceId: 'd1', moduleId: null, isConnected: true, atMs: 1, lastActivityTime: 1 }]);
  await registryStore.setCloudToDeviceMessageCount('d1', 3);
  expect(await cache.getDevice('d1')).toBe(warm);
});
