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
import type { TwinStore } from '../twins/twin-store.ts';

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

    async function insertDevice(label: string, twin: TwinState = initialTwinState(NOW)) {
      const device = newDevice({ deviceId: uniqueId(label) }, NOW);
      expect(await registry.insertDevice(device, twin)).toBe(true);
      return device;
    }

    test('a device twin inserted with its identity reads back field for field, without a model id', async () => {
      const twin = initialTwinState(NOW, { tags: { site: 'a' }, desired: { interval: 5 } });
      const device = await insertDevice('read', twin);
      expect(await twins.getTwin(device.deviceId, null)).toEqual({ state: twin, modelId: null });
    });

    test('an update applies only when the expected version matches and writes every field', async () => {
      const device = await insertDevice('cas');
      const before = (await twins.getTwin(device.deviceId, null))!.state;
      const next = changedTwin(before);
      expect(await twins.updateTwin(device.deviceId, null, next, before.version + 7)).toBe(false);
      expect((await twins.getTwin(device.deviceId, null))?.state).toEqual(before);
      expect(await twins.updateTwin(device.deviceId, null, next, before.version)).toBe(true);
      expect((await twins.getTwin(device.deviceId, null))?.state).toEqual(next);
      expect(await twins.updateTwin(device.deviceId, null, changedTwin(next), before.version)).toBe(false);
    });

    test('of two writers expecting the same version exactly one wins', async () => {
      const device = await insertDevice('race');
      const before = (await twins.getTwin(device.deviceId, null))!.state;
      const a = { ...changedTwin(before), tags: { writer: 'a' } };
      const b = { ...changedTwin(before), tags: { writer: 'b' } };
      const results = await Promise.all([
        twins.updateTwin(device.deviceId, null, a, before.version),
        twins.updateTwin(device.deviceId, null, b, before.version),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await twins.getTwin(device.deviceId, null))?.state.tags).toEqual(results[0] ? a.tags : b.tags);
    });

    test('a module twin is its own, apart from its device twin', async () => {
      const device = await insertDevice('mod');
      const module = newModule({ deviceId: device.deviceId, moduleId: 'm1' }, NOW);
      expect(await registry.insertModule(module, initialTwinState(NOW))).toBe(true);
      const before = (await twins.getTwin(device.deviceId, 'm1'))!.state;
      const next = changedTwin(before);
      expect(await twins.updateTwin(device.deviceId, 'm1', next, before.version)).toBe(true);
      expect((await twins.getTwin(device.deviceId, 'm1'))?.state).toEqual(next);
      expect((await twins.getTwin(device.deviceId, null))?.state).toEqual(initialTwinState(NOW));
      expect(await twins.getTwin(device.deviceId, 'm2')).toBeUndefined();
    });

    test('twin writes leave the identity alone and identity writes leave the twin alone', async () => {
      const device = await insertDevice('apart');
      const before = (await twins.getTwin(device.deviceId, null))!.state;
      const next = changedTwin(before);
      await twins.updateTwin(device.deviceId, null, next, before.version);
      expect(await registry.getDevice(device.deviceId)).toEqual(device);
      const disabled = { ...device, etagVersion: 2, status: 'disabled' as const };
      expect(await registry.updateDevice(disabled, 1)).toBe(true);
      expect((await twins.getTwin(device.deviceId, null))?.state).toEqual(next);
    });

    test('the model id is kept per identity and does not change the twin', async () => {
      const device = await insertDevice('model');
      const module = newModule({ deviceId: device.deviceId, moduleId: 'm1' }, NOW);
      await registry.insertModule(module, initialTwinState(NOW));
      expect(await twins.setModelId(device.deviceId, null, 'dtmi:com:example:Thermostat;1')).toBe(true);
      expect(await twins.getTwin(device.deviceId, null)).toEqual({ state: initialTwinState(NOW), modelId: 'dtmi:com:example:Thermostat;1' });
      expect((await twins.getTwin(device.deviceId, 'm1'))?.modelId).toBeNull();
      expect(await twins.setModelId(device.deviceId, null, null)).toBe(true);
      expect((await twins.getTwin(device.deviceId, null))?.modelId).toBeNull();
    });

    test('missing identities have no twin and writes to them return false', async () => {
      const ghost = uniqueId('ghost');
      expect(await twins.getTwin(ghost, null)).toBeUndefined();
      expect(await twins.getTwin(ghost, 'm1')).toBeUndefined();
      expect(await twins.updateTwin(ghost, null, initialTwinState(NOW), 1)).toBe(false);
      expect(await twins.updateTwin(ghost, 'm1', initialTwinState(NOW), 1)).toBe(false);
      expect(await twins.setModelId(ghost, null, 'dtmi:x;1')).toBe(false);
    });

    test('deleting a device deletes its twin and its modules’ twins', async () => {
      const device = await insertDevice('gone');
      await registry.insertModule(newModule({ deviceId: device.deviceId, moduleId: 'm1' }, NOW), initialTwinState(NOW));
      await twins.setModelId(device.deviceId, null, 'dtmi:x;1');
      expect(await registry.deleteDevice(device.deviceId)).toBe(true);
      expect(await twins.getTwin(device.deviceId, null)).toBeUndefined();
      expect(await twins.getTwin(device.deviceId, 'm1')).toBeUndefined();
      expect(await registry.insertDevice(device, initialTwinState(NOW))).toBe(true);
      expect(await twins.getTwin(device.deviceId, null)).toEqual({ state: initialTwinState(NOW), modelId: null });
    });
  });
}
