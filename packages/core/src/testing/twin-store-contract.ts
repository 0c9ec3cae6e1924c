/**
 * The twin store contract: one suite every TwinStore must pass (memory, PGlite, PostgreSQL),
 * run beside the registry store that creates the identities the twins belong to. Each test
 * works on ids of its own, so tests do not depend on each other.
 * @module
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { newDevice } from '../identity/device-rules.ts';
import { newModule } from '../identity/module-rules.ts';
import { initialTwinState } from '../identity/twin-state.ts';
import type { TwinState } from '../identity/types.ts';
import type { RegistryStore } from '../ports.ts';
import type { StoredTwin, TwinStore, TwinUpdate } from '../twins/twin-store.ts';

export interface OpenedTwinStores {
  /** Creates and deletes the identities (and so the twins). */
  registry: RegistryStore;
  twins: TwinStore;
  close(): Promise<void>;
}

let counter = 0;
const uniqueId = (label: string) => `${label}-${process.pid}-${Date.now().toString(36)}-${++counter}`;
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0, 123);
const LATER = new Date(NOW + 60_000).toISOString();

/** A twin with every field set to something other than the initial values. */
function changedTwin(from: TwinState): TwinState {
  return {
    tags: { location: { building: '43', floor: 2 }, 'ünïcode-😀': 'ok', empty: {} },
    desired: { fan: { speed: 3.5, modes: ['eco', 'boost', null, { nested: true }] }, limit: 4503599627370495, negative: -1 },
    reported: { firmware: '1.2.3', healthy: false },
    desiredMetadata: {
      $lastUpdated: LATER,
      $lastUpdatedVersion: from.desiredVersion + 1,
      fan: { $lastUpdated: LATER, $lastUpdatedVersion: from.desiredVersion + 1 },
    },
    reportedMetadata: { $lastUpdated: LATER, firmware: { $lastUpdated: LATER }, healthy: { $lastUpdated: LATER } },
    desiredVersion: from.desiredVersion + 1,
    reportedVersion: from.reportedVersion + 1,
    version: from.version + 1,
  };
}

export function twinStoreContract(name: string, open: () => Promise<OpenedTwinStores>): void {
  describe(`twin store contract: ${name}`, () => {
    let opened: OpenedTwinStores;
    let registry: RegistryStore;
    let twins: TwinStore;
    beforeAll(async () => {
      opened = await open();
      ({ registry, twins } = opened);
    });
    afterAll(async () => {
      await opened?.close();
    });

    const getTwin = async (deviceId: string, moduleId: string | null): Promise<StoredTwin | undefined> =>
      (await twins.getTwins([{ deviceId, moduleId }]))[0];
    const updateTwin = async (deviceId: string, moduleId: string | null, next: TwinState, expectedVersion: number): Promise<boolean> =>
      (await twins.updateTwins([{ deviceId, moduleId, next, expectedVersion }]))[0]!;

    async function insertDevice(label: string, twin: TwinState = initialTwinState(NOW)) {
      const device = newDevice({ deviceId: uniqueId(label) }, NOW);
      expect(await registry.insertDevice(device, twin)).toBe(true);
      return device;
    }

    test('a device twin inserted with its identity reads back field for field, without a model id', async () => {
      const twin = initialTwinState(NOW, { tags: { site: 'a' }, desired: { interval: 5 } });
      const device = await insertDevice('read', twin);
      expect(await getTwin(device.deviceId, null)).toEqual({ state: twin, modelId: null });
    });

    test('an update applies only when the expected version matches and writes every field', async () => {
      const device = await insertDevice('cas');
      const before = (await getTwin(device.deviceId, null))!.state;
      const next = changedTwin(before);
      expect(await updateTwin(device.deviceId, null, next, before.version + 7)).toBe(false);
      expect((await getTwin(device.deviceId, null))?.state).toEqual(before);
      expect(await updateTwin(device.deviceId, null, next, before.version)).toBe(true);
      expect((await getTwin(device.deviceId, null))?.state).toEqual(next);
      expect(await updateTwin(device.deviceId, null, changedTwin(next), before.version)).toBe(false);
    });

    test('of two writers expecting the same version exactly one wins', async () => {
      const device = await insertDevice('race');
      const before = (await getTwin(device.deviceId, null))!.state;
      const a = { ...changedTwin(before), tags: { writer: 'a' } };
      const b = { ...changedTwin(before), tags: { writer: 'b' } };
      const results = await Promise.all([
        updateTwin(device.deviceId, null, a, before.version),
        updateTwin(device.deviceId, null, b, before.version),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await getTwin(device.deviceId, null))?.state.tags).toEqual(results[0] ? a.tags : b.tags);
    });

    test('a module twin is its own, apart from its device twin', async () => {
      const device = await insertDevice('mod');
      const module = newModule({ deviceId: device.deviceId, moduleId: 'm1' }, NOW);
      expect(await registry.insertModule(module, initialTwinState(NOW))).toBe(true);
      const before = (await getTwin(device.deviceId, 'm1'))!.state;
      const next = changedTwin(before);
      expect(await updateTwin(device.deviceId, 'm1', next, before.version)).toBe(true);
      expect((await getTwin(device.deviceId, 'm1'))?.state).toEqual(next);
      expect((await getTwin(device.deviceId, null))?.state).toEqual(initialTwinState(NOW));
      expect(await getTwin(device.deviceId, 'm2')).toBeUndefined();
    });

    test('twin writes leave the identity alone and identity writes leave the twin alone', async () => {
      const device = await insertDevice('apart');
      const before = (await getTwin(device.deviceId, null))!.state;
      const next = changedTwin(before);
      await updateTwin(device.deviceId, null, next, before.version);
      expect(await registry.getDevice(device.deviceId)).toEqual(device);
      const disabled = { ...device, etagVersion: 2, status: 'disabled' as const };
      expect(await registry.updateDevice(disabled, 1)).toBe(true);
      expect((await getTwin(device.deviceId, null))?.state).toEqual(next);
    });

    test('the model id is kept per identity and does not change the twin', async () => {
      const device = await insertDevice('model');
      const module = newModule({ deviceId: device.deviceId, moduleId: 'm1' }, NOW);
      await registry.insertModule(module, initialTwinState(NOW));
      expect(await twins.setModelId(device.deviceId, null, 'dtmi:com:example:Thermostat;1')).toBe(true);
      expect(await getTwin(device.deviceId, null)).toEqual({ state: initialTwinState(NOW), modelId: 'dtmi:com:example:Thermostat;1' });
      expect((await getTwin(device.deviceId, 'm1'))?.modelId).toBeNull();
      expect(await twins.setModelId(device.deviceId, null, null)).toBe(true);
      expect((await getTwin(device.deviceId, null))?.modelId).toBeNull();
    });

    test('missing identities have no twin and writes to them return false', async () => {
      const ghost = uniqueId('ghost');
      expect(await getTwin(ghost, null)).toBeUndefined();
      expect(await getTwin(ghost, 'm1')).toBeUndefined();
      expect(await updateTwin(ghost, null, initialTwinState(NOW), 1)).toBe(false);
      expect(await updateTwin(ghost, 'm1', initialTwinState(NOW), 1)).toBe(false);
      expect(await twins.setModelId(ghost, null, 'dtmi:x;1')).toBe(false);
    });

    test('many twins read in one step answer in order: devices, modules, missing ones and repeats', async () => {
      const a = await insertDevice('many-a', initialTwinState(NOW, { tags: { who: 'a' } }));
      const b = await insertDevice('many-b', initialTwinState(NOW, { tags: { who: 'b' } }));
      await registry.insertModule(newModule({ deviceId: a.deviceId, moduleId: 'm1' }, NOW), initialTwinState(NOW, { tags: { who: 'a/m1' } }));
      const read = await twins.getTwins([
        { deviceId: b.deviceId, moduleId: null },
        { deviceId: uniqueId('ghost'), moduleId: null },
        { deviceId: a.deviceId, moduleId: 'm1' },
        { deviceId: a.deviceId, moduleId: 'm2' },
        { deviceId: a.deviceId, moduleId: null },
        { deviceId: b.deviceId, moduleId: null },
      ]);
      expect(read.map((twin) => twin?.state.tags.who)).toEqual(['b', undefined, 'a/m1', undefined, 'a', 'b']);
      expect(await twins.getTwins([])).toEqual([]);
      expect(await twins.updateTwins([])).toEqual([]);
    });

    test('a batch of updates answers each on its own: successes, version conflicts and missing identities', async () => {
      const fresh = await insertDevice('batch-ok');
      const stale = await insertDevice('batch-stale');
      await registry.insertModule(newModule({ deviceId: fresh.deviceId, moduleId: 'm1' }, NOW), initialTwinState(NOW));
      const [freshTwin, staleTwin, moduleTwin] = (await twins.getTwins([
        { deviceId: fresh.deviceId, moduleId: null },
        { deviceId: stale.deviceId, moduleId: null },
        { deviceId: fresh.deviceId, moduleId: 'm1' },
      ])).map((twin) => twin!.state);
      const updates: TwinUpdate[] = [
        { deviceId: fresh.deviceId, moduleId: null, next: changedTwin(freshTwin!), expectedVersion: freshTwin!.version },
        { deviceId: stale.deviceId, moduleId: null, next: changedTwin(staleTwin!), expectedVersion: staleTwin!.version + 1 },
        { deviceId: uniqueId('ghost'), moduleId: null, next: initialTwinState(NOW), expectedVersion: 1 },
        { deviceId: fresh.deviceId, moduleId: 'm1', next: { ...changedTwin(moduleTwin!), tags: { module: true } }, expectedVersion: moduleTwin!.version },
        { deviceId: fresh.deviceId, moduleId: 'ghost', next: initialTwinState(NOW), expectedVersion: 1 },
      ];
      expect(await twins.updateTwins(updates)).toEqual([true, false, false, true, false]);
      expect((await getTwin(fresh.deviceId, null))?.state).toEqual(updates[0]!.next);
      expect((await getTwin(stale.deviceId, null))?.state).toEqual(staleTwin);
      expect((await getTwin(fresh.deviceId, 'm1'))?.state).toEqual(updates[3]!.next);
    });

    test('concurrent batches over the same twins never lose an update', async () => {
      const ids = await Promise.all(['x', 'y', 'z'].map(async (label) => (await insertDevice(`counted-${label}`)).deviceId));
      await registry.insertModule(newModule({ deviceId: ids[0]!, moduleId: 'm1' }, NOW), initialTwinState(NOW));
      const targets = [...ids.map((deviceId) => ({ deviceId, moduleId: null })), { deviceId: ids[0]!, moduleId: 'm1' }];
      const WRITERS = 4;
      const ROUNDS = 5;
      // Each writer adds one to every twin's counter ROUNDS times, retrying only the twins it lost;
      // the writers walk the twins in different orders, so the store must not deadlock either.
      const writer = async (offset: number) => {
        const order = targets.map((_, index) => targets[(index + offset) % targets.length]!);
        for (let round = 0; round < ROUNDS; round++) {
          let pending = order;
          while (pending.length > 0) {
            const read = await twins.getTwins(pending);
            const updates = pending.map((target, index): TwinUpdate => {
              const { state } = read[index]!;
              const count = (state.reported.count as number | undefined) ?? 0;
              return { ...target, next: { ...state, reported: { count: count + 1 }, version: state.version + 1 }, expectedVersion: state.version };
            });
            const written = await twins.updateTwins(updates);
            pending = pending.filter((_, index) => !written[index]);
          }
        }
      };
      await Promise.all(Array.from({ length: WRITERS }, (_, offset) => writer(offset)));
      const after = await twins.getTwins(targets);
      expect(after.map((twin) => twin?.state.reported.count)).toEqual(targets.map(() => WRITERS * ROUNDS));
      expect(after.map((twin) => twin?.state.version)).toEqual(targets.map(() => 1 + WRITERS * ROUNDS));
    });

    test('deleting a device deletes its twin and its modules’ twins', async () => {
      const device = await insertDevice('gone');
      await registry.insertModule(newModule({ deviceId: device.deviceId, moduleId: 'm1' }, NOW), initialTwinState(NOW));
      await twins.setModelId(device.deviceId, null, 'dtmi:x;1');
      expect(await registry.deleteDevice(device.deviceId)).toBe(true);
      expect(await getTwin(device.deviceId, null)).toBeUndefined();
      expect(await getTwin(device.deviceId, 'm1')).toBeUndefined();
      expect(await registry.insertDevice(device, initialTwinState(NOW))).toBe(true);
      expect(await getTwin(device.deviceId, null)).toEqual({ state: initialTwinState(NOW), modelId: null });
    });
  });
}
