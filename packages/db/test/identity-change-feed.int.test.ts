/**
 * The identity change feed on PostgreSQL: what one hub's registry store writes, another hub's
 * feed hears, at commit and only for writes that changed a row. PGlite has no feed (one process).
 * Notifications of one listener arrive in commit order, so a later "sentinel" write proves that
 * an earlier write announced nothing.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type HubStores, IdentityRegistry, systemClock } from '@tributary/core';
import { postgresIdentityChangeFeed } from '../src/identity-change-feed.ts';
import { openDb } from '../src/index.ts';
import { createTemporaryPostgresDatabase, type TemporaryDatabase } from '../src/testing.ts';

const baseUrl = process.env.DATABASE_URL;

if (!baseUrl) {
  describe('identity change feed on postgres', () => {
    test.skip('SKIPPED: set DATABASE_URL=postgres://… to run the identity change feed on PostgreSQL', () => {});
  });
} else {
  describe('identity change feed on postgres', () => {
    let database: TemporaryDatabase;
    let close: () => Promise<void>;
    let stores: HubStores;
    let registry: IdentityRegistry;
    let stopListening: () => Promise<void>;
    const heard: string[] = [];
    let missedCount = 0;
    let counter = 0;

    beforeAll(async () => {
      database = await createTemporaryPostgresDatabase(baseUrl, 'feed');
      const opened = await openDb({ dataDir: '', databaseUrl: database.url });
      stores = opened.stores;
      registry = new IdentityRegistry({ store: stores.registry, clock: systemClock });
      close = opened.close;
      stopListening = await postgresIdentityChangeFeed(database.url).subscribe({
        identityChanged: (deviceId) => heard.push(deviceId),
        changesMissed: () => missedCount++,
      });
    });
    afterAll(async () => {
      await stopListening?.();
      await close?.();
      await database?.drop();
    });

    const registered = (label: string) => registry.createDevice({ deviceId: `${label}-${++counter}` });

    /** Deletes a sentinel device and returns what was heard before it. */
    async function heardBeforeSentinel(): Promise<string[]> {
      const sentinel = await registered('sentinel');
      await registry.deleteDevice(sentinel.deviceId, '*');
      const deadline = Date.now() + 5000;
      while (!heard.includes(sentinel.deviceId) && Date.now() < deadline) await Bun.sleep(5);
      expect(heard).toContain(sentinel.deviceId);
      return heard.slice(0, heard.indexOf(sentinel.deviceId));
    }

    test('subscribing tells the listener that earlier changes went unheard', () => {
      expect(missedCount).toBe(1);
    });

    test('registering a device announces nothing: a cache never holds a missing identity', async () => {
      heard.length = 0;
      await registered('new');
      expect(await heardBeforeSentinel()).toEqual([]);
    });

    test('a device replaced, a module replaced or deleted, and a device deleted are each heard by deviceId', async () => {
      heard.length = 0;
      const device = await registered('changed');
      await registry.createModule({ deviceId: device.deviceId, moduleId: 'm1' });
      await registry.updateDevice({ deviceId: device.deviceId, status: 'disabled' }, '*');
      await registry.regenerateModuleKeys(device.deviceId, 'm1', 'swap');
      await registry.deleteModule(device.deviceId, 'm1', '*');
      await registry.deleteDevice(device.deviceId, '*');
      expect(await heardBeforeSentinel()).toEqual([device.deviceId, device.deviceId, device.deviceId, device.deviceId]);
    });

    test('a compare-and-set that loses and a transaction that rolls back announce nothing', async () => {
      heard.length = 0;
      const device = await registered('unchanged');
      expect(await stores.registry.updateDevice({ ...device, etagVersion: 9, status: 'disabled' }, 7)).toBe(false);
      await expect(
        stores.registry.transaction(async (tx) => {
          await tx.updateDevice({ ...device, etagVersion: 2, status: 'disabled' }, 1);
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await heardBeforeSentinel()).toEqual([]);
    });

    test('writes in a transaction are heard once it commits, not before', async () => {
      heard.length = 0;
      const device = await registered('tx');
      await stores.registry.transaction(async (tx) => {
        await tx.updateDevice({ ...device, etagVersion: 2, status: 'disabled' }, 1);
        await Bun.sleep(50);
        expect(heard).toEqual([]);
      });
      expect(await heardBeforeSentinel()).toEqual([device.deviceId]);
    });
  });
}
