/**
 * The store contract: one suite every implementation of the store ports must pass (memory,
 * PGlite, PostgreSQL), in the manner of aedes-persistence's abstract.js. The stores are opened
 * once per suite; each test works on ids of its own so tests do not depend on each other.
 * @module
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createBuiltInPolicies } from '../auth/policies.ts';
import { newDevice } from '../identity/device-rules.ts';
import { newModule } from '../identity/module-rules.ts';
import { initialTwinState } from '../identity/twin-state.ts';
import type { Device } from '../identity/types.ts';
import type { DeviceSearch, HubStores } from '../ports.ts';

export interface OpenedStores {
  stores: HubStores;
  close(): Promise<void>;
}

let counter = 0;
const uniqueId = (label: string) => `${label}-${process.pid}-${Date.now().toString(36)}-${++counter}`;
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0, 123);

function sampleDevice(label: string, overrides: Partial<Device> = {}): Device {
  return { ...newDevice({ deviceId: uniqueId(label) }, NOW), ...overrides };
}

export function storeContract(name: string, open: () => Promise<OpenedStores>): void {
  describe(`store contract: ${name}`, () => {
    let opened: OpenedStores;
    let stores: HubStores;
    beforeAll(async () => {
      opened = await open();
      stores = opened.stores;
    });
    afterAll(async () => {
      await opened?.close();
    });

    describe('devices', () => {
      test('an inserted device reads back field for field', async () => {
        const device = sampleDevice('roundtrip', {
          status: 'disabled',
          statusReason: 'maintenance',
          lastActivityTime: NOW + 5,
          connectionStateUpdatedTime: NOW + 7,
          cloudToDeviceMessageCount: 3,
          parentScopes: ['ms-azure-iot-edge://edge-1-123'],
          deviceScope: 'ms-azure-iot-edge://edge-1-123',
        });
        expect(await stores.registry.insertDevice(device, initialTwinState(NOW))).toBe(true);
        expect(await stores.registry.getDevice(device.deviceId)).toEqual(device);
      });

      test('inserting a taken deviceId returns false and keeps the first device', async () => {
        const device = sampleDevice('dup');
        await stores.registry.insertDevice(device, initialTwinState(NOW));
        const clash = { ...sampleDevice('other'), deviceId: device.deviceId };
        expect(await stores.registry.insertDevice(clash, initialTwinState(NOW))).toBe(false);
        expect((await stores.registry.getDevice(device.deviceId))?.generationId).toBe(device.generationId);
      });

      test('deviceIds are case-sensitive', async () => {
        const device = sampleDevice('CaseSensitive');
        await stores.registry.insertDevice(device, initialTwinState(NOW));
        expect(await stores.registry.getDevice(device.deviceId.toLowerCase())).toBeUndefined();
      });

      test('an update applies only when the expected etagVersion matches', async () => {
        const device = sampleDevice('cas');
        await stores.registry.insertDevice(device, initialTwinState(NOW));
        const next = { ...device, etagVersion: 2, status: 'disabled' as const };
        expect(await stores.registry.updateDevice(next, 7)).toBe(false);
        expect((await stores.registry.getDevice(device.deviceId))?.status).toBe('enabled');
        expect(await stores.registry.updateDevice(next, 1)).toBe(true);
        expect(await stores.registry.getDevice(device.deviceId)).toEqual(next);
      });

      test('an update never writes connection state, activity or the C2D count', async () => {
        const device = sampleDevice('owned');
        await stores.registry.insertDevice(device, initialTwinState(NOW));
        await stores.registry.recordConnections([{ deviceId: device.deviceId, moduleId: null, isConnected: true, atMs: NOW + 10, lastActivityTime: NOW + 9 }]);
        // A replace computed from a read taken before the connection.
        expect(await stores.registry.updateDevice({ ...device, etagVersion: 2, status: 'disabled' }, 1)).toBe(true);
        const stored = await stores.registry.getDevice(device.deviceId);
        expect(stored).toMatchObject({ status: 'disabled', connectionState: 'Connected', connectionStateUpdatedTime: NOW + 10, lastActivityTime: NOW + 9 });
      });

      test('recordConnections sets the state and time without moving the etag, and keeps activity when none is given', async () => {
        const device = sampleDevice('conn');
        await stores.registry.insertDevice(device, initialTwinState(NOW));
        const change = { deviceId: device.deviceId, moduleId: null };
        await stores.registry.recordConnections([{ ...change, isConnected: true, atMs: NOW + 1, lastActivityTime: NOW + 1 }]);
        await stores.registry.recordConnections([{ ...change, isConnected: false, atMs: NOW + 5, lastActivityTime: null }]);
        expect(await stores.registry.getDevice(device.deviceId)).toMatchObject({
          connectionState: 'Disconnected',
          connectionStateUpdatedTime: NOW + 5,
          lastActivityTime: NOW + 1,
          etagVersion: 1,
        });
        const module = newModule({ deviceId: device.deviceId, moduleId: 'm1' }, NOW);
        await stores.registry.insertModule(module, initialTwinState(NOW));
        await stores.registry.recordConnections([{ deviceId: device.deviceId, moduleId: 'm1', isConnected: true, atMs: NOW + 7, lastActivityTime: NOW + 7 }]);
        expect((await stores.registry.getModule(device.deviceId, 'm1'))?.connectionState).toBe('Connected');
        expect((await stores.registry.getDevice(device.deviceId))?.connectionState).toBe('Disconnected');
      });

      test('recordConnections writes devices and modules of one call together, each with its own change, and skips identities that are gone', async () => {
        const a = sampleDevice('conn-a');
        const b = sampleDevice('conn-b');
        await stores.registry.insertDevice(a, initialTwinState(NOW));
        await stores.registry.insertDevice(b, initialTwinState(NOW));
        await stores.registry.insertModule(newModule({ deviceId: a.deviceId, moduleId: 'm1' }, NOW), initialTwinState(NOW));
        await stores.registry.insertModule(newModule({ deviceId: b.deviceId, moduleId: 'm1' }, NOW), initialTwinState(NOW));
        await stores.registry.recordConnections([
          { deviceId: a.deviceId, moduleId: null, isConnected: true, atMs: NOW + 1, lastActivityTime: NOW + 2 },
          { deviceId: b.deviceId, moduleId: null, isConnected: false, atMs: NOW + 3, lastActivityTime: null },
          { deviceId: a.deviceId, moduleId: 'm1', isConnected: true, atMs: NOW + 4, lastActivityTime: null },
          { deviceId: sampleDevice('conn-gone').deviceId, moduleId: null, isConnected: true, atMs: NOW + 5, lastActivityTime: NOW + 5 },
          { deviceId: b.deviceId, moduleId: 'gone', isConnected: true, atMs: NOW + 6, lastActivityTime: NOW + 6 },
        ]);
        expect(await stores.registry.getDevice(a.deviceId)).toMatchObject({
          connectionState: 'Connected',
          connectionStateUpdatedTime: NOW + 1,
          lastActivityTime: NOW + 2,
        });
        expect(await stores.registry.getDevice(b.deviceId)).toMatchObject({
          connectionState: 'Disconnected',
          connectionStateUpdatedTime: NOW + 3,
          lastActivityTime: null,
        });
        expect(await stores.registry.getModule(a.deviceId, 'm1')).toMatchObject({
          connectionState: 'Connected',
          connectionStateUpdatedTime: NOW + 4,
          lastActivityTime: null,
          etagVersion: 1,
        });
        expect((await stores.registry.getModule(b.deviceId, 'm1'))?.connectionState).toBe('Disconnected');
      });

      test('updating a missing device returns false', async () => {
        expect(await stores.registry.updateDevice(sampleDevice('ghost'), 1)).toBe(false);
      });

      test('delete honours the expected etagVersion and removes the device with its modules', async () => {
        const device = sampleDevice('del');
        await stores.registry.insertDevice(device, initialTwinState(NOW));
        const module = newModule({ deviceId: device.deviceId, moduleId: 'm1' }, NOW);
        await stores.registry.insertModule(module, initialTwinState(NOW));
        expect(await stores.registry.deleteDevice(device.deviceId, 9)).toBe(false);
        expect(await stores.registry.deleteDevice(device.deviceId, 1)).toBe(true);
        expect(await stores.registry.getDevice(device.deviceId)).toBeUndefined();
        expect(await stores.registry.getModule(device.deviceId, 'm1')).toBeUndefined();
        expect(await stores.registry.deleteDevice(device.deviceId)).toBe(false);
      });

      test('list pages by deviceId in order', async () => {
        const prefix = uniqueId('page');
        for (const suffix of ['c', 'a', 'b']) {
          await stores.registry.insertDevice(
            { ...sampleDevice('p'), deviceId: `${prefix}-${suffix}` },
            initialTwinState(NOW),
          );
        }
        const firstTwo = await stores.registry.listDevices({ limit: 2, afterDeviceId: `${prefix}-` });
        expect(firstTwo.map((d) => d.deviceId)).toEqual([`${prefix}-a`, `${prefix}-b`]);
        const rest = await stores.registry.listDevices({ limit: 2, afterDeviceId: `${prefix}-b` });
        expect(rest[0]?.deviceId).toBe(`${prefix}-c`);
      });

      test('statistics count enabled, disabled and connected devices', async () => {
        const before = await stores.registry.statistics();
        const connectedBefore = await stores.registry.countConnectedDevices();
        await stores.registry.insertDevice(sampleDevice('s1'), initialTwinState(NOW));
        await stores.registry.insertDevice(sampleDevice('s2', { status: 'disabled' }), initialTwinState(NOW));
        await stores.registry.insertDevice(sampleDevice('s3', { connectionState: 'Connected' }), initialTwinState(NOW));
        const after = await stores.registry.statistics();
        expect(after.totalDeviceCount - before.totalDeviceCount).toBe(3);
        expect(after.enabledDeviceCount - before.enabledDeviceCount).toBe(2);
        expect(after.disabledDeviceCount - before.disabledDeviceCount).toBe(1);
        expect((await stores.registry.countConnectedDevices()) - connectedBefore).toBe(1);
      });
    });

    describe('modules', () => {
      test('a module reads back, lists under its device, and updates with compare-and-set', async () => {
        const device = sampleDevice('mod');
        await stores.registry.insertDevice(device, initialTwinState(NOW));
        const m2 = newModule({ deviceId: device.deviceId, moduleId: 'm2', managedBy: 'IotEdge' }, NOW);
        const m1 = newModule({ deviceId: device.deviceId, moduleId: 'm1' }, NOW);
        expect(await stores.registry.insertModule(m2, initialTwinState(NOW))).toBe(true);
        expect(await stores.registry.insertModule(m1, initialTwinState(NOW))).toBe(true);
        expect(await stores.registry.insertModule(m1, initialTwinState(NOW))).toBe(false);
        expect(await stores.registry.getModule(device.deviceId, 'm2')).toEqual(m2);
        expect((await stores.registry.listModules(device.deviceId)).map((m) => m.moduleId)).toEqual(['m1', 'm2']);
        const next = { ...m1, etagVersion: 2, managedBy: 'me' };
        expect(await stores.registry.updateModule(next, 5)).toBe(false);
        expect(await stores.registry.updateModule(next, 1)).toBe(true);
        expect((await stores.registry.getModule(device.deviceId, 'm1'))?.managedBy).toBe('me');
        expect(await stores.registry.deleteModule(device.deviceId, 'm1', 1)).toBe(false);
        expect(await stores.registry.deleteModule(device.deviceId, 'm1', 2)).toBe(true);
      });

      test('a module cannot be inserted under a missing device', async () => {
        const module = newModule({ deviceId: uniqueId('nodevice'), moduleId: 'm1' }, NOW);
        expect(await stores.registry.insertModule(module, initialTwinState(NOW))).toBe(false);
      });
    });

    describe('transactions', () => {
      test('writes inside a failed transaction are all rolled back', async () => {
        const a = sampleDevice('tx-a');
        const b = sampleDevice('tx-b');
        await expect(
          stores.registry.transaction(async (tx) => {
            await tx.insertDevice(a, initialTwinState(NOW));
            await tx.insertDevice(b, initialTwinState(NOW));
            throw new Error('abort');
          }),
        ).rejects.toThrow('abort');
        expect(await stores.registry.getDevice(a.deviceId)).toBeUndefined();
        expect(await stores.registry.getDevice(b.deviceId)).toBeUndefined();
      });

      test('writes inside a successful transaction all land and reads see earlier writes', async () => {
        const a = sampleDevice('txok');
        const seen = await stores.registry.transaction(async (tx) => {
          await tx.insertDevice(a, initialTwinState(NOW));
          return tx.getDevice(a.deviceId);
        });
        expect(seen?.deviceId).toBe(a.deviceId);
        expect(await stores.registry.getDevice(a.deviceId)).toEqual(a);
      });
    });

    describe('policies, settings, operators', () => {
      test('policies upsert, list and delete', async () => {
        const [policy] = createBuiltInPolicies();
        const custom = { ...policy!, keyName: uniqueId('policy') };
        await stores.policies.upsert(custom);
        await stores.policies.upsert({ ...custom, rights: ['RegistryRead'] });
        const found = (await stores.policies.list()).find((p) => p.keyName === custom.keyName);
        expect(found).toEqual({ ...custom, rights: ['RegistryRead'] });
        expect(await stores.policies.delete(custom.keyName)).toBe(true);
        expect(await stores.policies.delete(custom.keyName)).toBe(false);
      });

      test('settings keep JSON values by key', async () => {
        const key = uniqueId('setting');
        expect(await stores.settings.get(key)).toBeUndefined();
        await stores.settings.set(key, { a: [1, 'two', null], b: true });
        await stores.settings.set(key, { a: [1, 'two', null], b: false });
        expect(await stores.settings.get(key)).toEqual({ a: [1, 'two', null], b: false });
      });

      test('operators are unique by username', async () => {
        const username = uniqueId('op');
        const operator = { username, passwordHash: '$argon2id$v=19$x', role: 'viewer' as const, createdAt: NOW };
        const before = await stores.operators.count();
        expect(await stores.operators.insert(operator)).toBe(true);
        expect(await stores.operators.insert({ ...operator, role: 'admin' })).toBe(false);
        expect(await stores.operators.getByUsername(username)).toEqual(operator);
        expect(await stores.operators.count()).toBe(before + 1);
        expect((await stores.operators.list()).some((o) => o.username === username)).toBe(true);
      });

      test('an operator password hash changes, and deleting an operator ends its sessions', async () => {
        const username = uniqueId('op');
        await stores.operators.insert({ username, passwordHash: 'old', role: 'admin', createdAt: NOW });
        expect(await stores.operators.setPasswordHash(username, 'new')).toBe(true);
        expect((await stores.operators.getByUsername(username))?.passwordHash).toBe('new');
        expect(await stores.operators.setPasswordHash(uniqueId('nobody'), 'x')).toBe(false);
        const session = { id: uniqueId('session'), username, createdAt: NOW, expiresAt: NOW + 1000 };
        await stores.consoleSessions.insert(session);
        expect(await stores.operators.delete(username)).toBe(true);
        expect(await stores.operators.delete(username)).toBe(false);
        expect(await stores.operators.getByUsername(username)).toBeUndefined();
        expect(await stores.consoleSessions.get(session.id)).toBeUndefined();
      });
    });

    describe('console sessions', () => {
      const newOperator = async () => {
        const username = uniqueId('op');
        await stores.operators.insert({ username, passwordHash: 'h', role: 'viewer', createdAt: NOW });
        return username;
      };

      test('a session reads back, slides, and is deleted', async () => {
        const session = { id: uniqueId('s'), username: await newOperator(), createdAt: NOW, expiresAt: NOW + 1000 };
        await stores.consoleSessions.insert(session);
        expect(await stores.consoleSessions.get(session.id)).toEqual(session);
        await stores.consoleSessions.setExpiresAt(session.id, NOW + 5000);
        expect((await stores.consoleSessions.get(session.id))?.expiresAt).toBe(NOW + 5000);
        await stores.consoleSessions.delete(session.id);
        expect(await stores.consoleSessions.get(session.id)).toBeUndefined();
      });

      test("revoking an operator's sessions keeps the one excepted and other operators' sessions", async () => {
        const [alice, bob] = [await newOperator(), await newOperator()];
        const sessionOf = (username: string) => ({ id: uniqueId('s'), username, createdAt: NOW, expiresAt: NOW + 1000 });
        const [kept, revoked, other] = [sessionOf(alice), sessionOf(alice), sessionOf(bob)];
        for (const session of [kept, revoked, other]) await stores.consoleSessions.insert(session);
        await stores.consoleSessions.deleteForOperator(alice, kept.id);
        expect(await stores.consoleSessions.get(kept.id)).toEqual(kept);
        expect(await stores.consoleSessions.get(revoked.id)).toBeUndefined();
        expect(await stores.consoleSessions.get(other.id)).toEqual(other);
      });

      test('expired sessions are swept, live ones stay', async () => {
        const username = await newOperator();
        const expired = { id: uniqueId('s'), username, createdAt: NOW, expiresAt: NOW - 1 };
        const live = { id: uniqueId('s'), username, createdAt: NOW, expiresAt: NOW + 1 };
        await stores.consoleSessions.insert(expired);
        await stores.consoleSessions.insert(live);
        expect(await stores.consoleSessions.deleteExpired(NOW)).toBeGreaterThanOrEqual(1);
        expect(await stores.consoleSessions.get(expired.id)).toBeUndefined();
        expect(await stores.consoleSessions.get(live.id)).toEqual(live);
      });
    });

    describe('device search', () => {
      /** Five devices under one unique prefix, so other tests' devices never match. */
      async function seed() {
        const prefix = uniqueId('Search');
        const make = (suffix: string, overrides: Partial<Device>) => ({
          ...newDevice({ deviceId: `${prefix}-${suffix}` }, NOW),
          ...overrides,
        });
        const devices = [
          make('a', { status: 'enabled', lastActivityTime: NOW + 30 }),
          make('b', { status: 'disabled', lastActivityTime: null }),
          make('C', { status: 'enabled', lastActivityTime: NOW + 10 }),
          make('d', { status: 'disabled', lastActivityTime: NOW + 20 }),
          make('e', { status: 'enabled', lastActivityTime: NOW + 10 }),
        ];
        for (const device of devices) await stores.registry.insertDevice(device, initialTwinState(NOW));
        await stores.registry.recordConnections([{ deviceId: devices[4]!.deviceId, moduleId: null, isConnected: true, atMs: NOW, lastActivityTime: NOW + 10 }]);
        return prefix;
      }
      const ids = (found: { devices: Device[] }) => found.devices.map((device) => device.deviceId.slice(-1));
      const search = (overrides: Partial<DeviceSearch>): DeviceSearch => ({ sort: 'deviceId', order: 'asc', offset: 0, limit: 50, ...overrides });

      test('the id filter is a case-insensitive substring and the total counts every match', async () => {
        const prefix = await seed();
        const found = await stores.registry.searchDevices(search({ idContains: prefix.toLowerCase(), limit: 2 }));
        expect(found.total).toBe(5);
        expect(ids(found)).toEqual(['C', 'a']);
        expect(ids(await stores.registry.searchDevices(search({ idContains: `${prefix}-c`.toUpperCase() })))).toEqual(['C']);
        expect((await stores.registry.searchDevices(search({ idContains: `${prefix}%` }))).total).toBe(0);
      });

      test('status and connection state filter; pages follow offset and limit', async () => {
        const prefix = await seed();
        expect(ids(await stores.registry.searchDevices(search({ idContains: prefix, status: 'disabled' })))).toEqual(['b', 'd']);
        expect(ids(await stores.registry.searchDevices(search({ idContains: prefix, connectionState: 'Connected' })))).toEqual(['e']);
        const page = await stores.registry.searchDevices(search({ idContains: prefix, offset: 2, limit: 2 }));
        expect({ total: page.total, ids: ids(page) }).toEqual({ total: 5, ids: ['b', 'd'] });
      });

      test('sorting by a field breaks ties by deviceId; a never-active device is the oldest', async () => {
        const prefix = await seed();
        const sorted = async (sort: DeviceSearch['sort'], order: 'asc' | 'desc') =>
          ids(await stores.registry.searchDevices(search({ idContains: prefix, sort, order })));
        expect(await sorted('lastActivityTime', 'asc')).toEqual(['b', 'C', 'e', 'd', 'a']);
        expect(await sorted('lastActivityTime', 'desc')).toEqual(['a', 'd', 'C', 'e', 'b']);
        expect(await sorted('status', 'asc')).toEqual(['b', 'd', 'C', 'a', 'e']);
        expect(await sorted('connectionState', 'asc')).toEqual(['e', 'C', 'a', 'b', 'd']);
        expect(await sorted('deviceId', 'desc')).toEqual(['e', 'd', 'b', 'a', 'C']);
      });
    });
  });
}
