/**
 * The twin service over the in-memory stores, with identities made by the real registry: reads
 * from both sides, If-Match, retries on lost races, and when (and only when) listeners are told.
 */

import { describe, expect, test } from 'bun:test';
import { HubError, type HubErrorName } from '../errors.ts';
import { identityEtag } from '../identity/etag.ts';
import { IdentityRegistry } from '../identity/registry.ts';
import type { JsonObject } from '../identity/types.ts';
import type { LogFields, Logger } from '../log.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { createMemoryStores } from '../testing/memory-stores.ts';
import { createMemoryTwinStore, memoryRegistryState } from '../testing/memory-twin-store.ts';
import type { TwinChange } from './twin-changes.ts';
import { MAX_TWIN_WRITE_ATTEMPTS, TwinService, type TwinServiceDeps } from './twin-service.ts';
import type { TwinStore, TwinTarget } from './twin-store.ts';

interface Notified {
  desired: { target: TwinTarget; patch: JsonObject; committed: JsonObject | undefined }[];
  changes: { target: TwinTarget; change: TwinChange }[];
}

/** A store that lets another writer get in first on the next `races` compare-and-set writes. */
function racingStore(inner: TwinStore, races: { left: number }): TwinStore {
  return {
    getTwin: (deviceId, moduleId) => inner.getTwin(deviceId, moduleId),
    setModelId: (deviceId, moduleId, modelId) => inner.setModelId(deviceId, moduleId, modelId),
    async updateTwin(deviceId, moduleId, next, expectedVersion) {
      if (races.left > 0) {
        races.left--;
        const { state } = (await inner.getTwin(deviceId, moduleId))!;
        const racer = { ...state, tags: { ...state.tags, [`racer${races.left}`]: true }, version: state.version + 1 };
        await inner.updateTwin(deviceId, moduleId, racer, state.version);
      }
      return inner.updateTwin(deviceId, moduleId, next, expectedVersion);
    },
  };
}

function recordingLogger(): Logger & { errors: { event: string; fields: LogFields }[] } {
  const errors: { event: string; fields: LogFields }[] = [];
  const logger = { errors, debug() {}, info() {}, warn() {}, error: (event: string, fields: LogFields = {}) => errors.push({ event, fields }), child: () => logger };
  return logger;
}

async function setup(overrides: Partial<TwinServiceDeps> & { races?: { left: number } } = {}) {
  const stores = createMemoryStores();
  const clock = new FakeClock();
  const registry = new IdentityRegistry({ store: stores.registry, clock });
  const memoryTwins = createMemoryTwinStore(stores.registry);
  const notified: Notified = { desired: [], changes: [] };
  const twins = new TwinService({
    twins: overrides.races ? racingStore(memoryTwins, overrides.races) : memoryTwins,
    registry: stores.registry,
    clock,
    onDesiredPatched(target, patch) {
      // What the store holds at the moment of the call proves the call comes after the commit.
      const state = memoryRegistryState(stores.registry);
      const row = target.moduleId === null ? state.devices.get(target.deviceId) : state.modules.get(`${target.deviceId}\u0000${target.moduleId}`);
      notified.desired.push({ target, patch, committed: row?.twin.desired });
    },
    onTwinChanged: (target, change) => notified.changes.push({ target, change }),
    ...overrides,
  });
  const device = await registry.createDevice({ deviceId: 'dev1' });
  return { stores, clock, registry, twins, memoryTwins, notified, device };
}

async function expectRejects(promise: Promise<unknown>, code: HubErrorName, messagePart?: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(HubError);
  expect((error as HubError).code).toBe(code);
  if (messagePart) expect((error as HubError).message).toContain(messagePart);
}

describe('device side', () => {
  test('a new device reads its twin as desired and reported with $version 1, never empty', async () => {
    const { twins } = await setup();
    expect(await twins.getDeviceTwin('dev1', null)).toEqual({ desired: { $version: 1 }, reported: { $version: 1 } });
  });

  test('a reported patch resolves to the new reported $version, and the service sees it with $metadata', async () => {
    const { twins, clock } = await setup();
    clock.advance(1000);
    expect(await twins.patchReported('dev1', null, { temp: 21 })).toBe(2);
    expect(await twins.patchReported('dev1', null, { temp: null, hum: 40 })).toBe(3);
    const twin = await twins.getTwin('dev1');
    const at = new Date(clock.now()).toISOString();
    expect(twin.properties.reported).toEqual({ hum: 40, $metadata: { $lastUpdated: at, hum: { $lastUpdated: at } }, $version: 3 });
    expect(await twins.getDeviceTwin('dev1', null)).toEqual({ desired: { $version: 1 }, reported: { hum: 40, $version: 3 } });
  });

  test('missing identities fail with DeviceNotFound or ModuleNotFound', async () => {
    const { twins } = await setup();
    await expectRejects(twins.getDeviceTwin('ghost', null), 'DeviceNotFound');
    await expectRejects(twins.patchReported('ghost', null, { a: 1 }), 'DeviceNotFound');
    await expectRejects(twins.getDeviceTwin('dev1', 'm1'), 'ModuleNotFound');
  });

  test('a reported patch that loses a race is applied again on the newer twin', async () => {
    const races = { left: 2 };
    const { twins, memoryTwins } = await setup({ races });
    expect(await twins.patchReported('dev1', null, { fw: '2.0' })).toBe(2);
    const { state } = (await memoryTwins.getTwin('dev1', null))!;
    expect(state.reported).toEqual({ fw: '2.0' });
    expect(state.tags).toEqual({ racer1: true, racer0: true });
    expect(state.version).toBe(4);
  });

  test('patches sent without waiting are combined: one read and one write, each its own $version, told in order', async () => {
    const { stores, memoryTwins, notified } = await setup();
    const calls = { reads: 0, writes: 0 };
    const counting = new TwinService({
      twins: {
        getTwin: (deviceId, moduleId) => (calls.reads++, memoryTwins.getTwin(deviceId, moduleId)),
        setModelId: (deviceId, moduleId, modelId) => memoryTwins.setModelId(deviceId, moduleId, modelId),
        updateTwin: (deviceId, moduleId, next, expected) => (calls.writes++, memoryTwins.updateTwin(deviceId, moduleId, next, expected)),
      },
      registry: stores.registry,
      clock: new FakeClock(),
      onTwinChanged: (target, change) => notified.changes.push({ target, change }),
    });
    const first = counting.patchReported('dev1', null, { a: 1 });
    const rest = [counting.patchReported('dev1', null, { b: 2 }), counting.patchReported('dev1', null, { a: 3 })];
    expect(await Promise.all([first, ...rest])).toEqual([2, 3, 4]);
    // The first write went alone; the two that arrived while it was written went together.
    expect(calls).toEqual({ reads: 2, writes: 2 });
    expect((await memoryTwins.getTwin('dev1', null))!.state.reported).toEqual({ a: 3, b: 2 });
    expect(notified.changes.map(({ change }) => change.version)).toEqual([2, 3, 4]);
  });

  test('an invalid patch among combined ones fails alone', async () => {
    const { twins, memoryTwins } = await setup();
    const outcomes = await Promise.allSettled([
      twins.patchReported('dev1', null, { a: 1 }),
      twins.patchReported('dev1', null, { b: 2 }),
      twins.patchReported('dev1', null, { 'bad.name': 1 }),
      twins.patchReported('dev1', null, { c: 3 }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : (outcome.reason as HubError).code))).toEqual([2, 3, 'ArgumentInvalid', 4]);
    expect((await memoryTwins.getTwin('dev1', null))!.state.reported).toEqual({ a: 1, b: 2, c: 3 });
  });

  test(`after ${MAX_TWIN_WRITE_ATTEMPTS} lost races the write gives up with ServiceUnavailable`, async () => {
    const { twins, notified } = await setup({ races: { left: MAX_TWIN_WRITE_ATTEMPTS } });
    await expectRejects(twins.patchReported('dev1', null, { a: 1 }), 'ServiceUnavailable');
    expect(notified.changes).toEqual([]);
  });
});

describe('service side', () => {
  test('the service view carries the twin etag, the identity etag and the identity fields', async () => {
    const { twins, device } = await setup();
    const twin = await twins.getTwin('dev1');
    expect(twin).toMatchObject({ deviceId: 'dev1', moduleId: null, etag: 'AAAAAAAAAAE=', version: 1, modelId: null, tags: {} });
    expect(twin.identity).toEqual(device);
    expect(identityEtag(twin.identity.etagVersion)).toBe(identityEtag(device.etagVersion));
    expect(twin.properties.desired).toMatchObject({ $version: 1, $metadata: { $lastUpdated: expect.any(String) } });
  });

  test.each([[undefined], [null], ['*'], ['"*"'], ['"AAAAAAAAAAE="'], ['AAAAAAAAAAE=']])(
    'a patch with If-Match %p applies',
    async (ifMatch) => {
      const { twins } = await setup();
      const twin = await twins.updateTwin('dev1', null, { tags: { a: 1 } }, ifMatch);
      expect(twin).toMatchObject({ etag: 'AAAAAAAAAAI=', version: 2, tags: { a: 1 } });
    },
  );

  test('a stale If-Match fails with PreconditionFailed, changes nothing and tells nobody', async () => {
    const { twins, notified } = await setup();
    await twins.updateTwin('dev1', null, { tags: { a: 1 } }, '*');
    await expectRejects(twins.updateTwin('dev1', null, { properties: { desired: { x: 1 } } }, '"AAAAAAAAAAE="'), 'PreconditionFailed', "the twin of device 'dev1'");
    await expectRejects(twins.replaceTwin('dev1', null, {}, '"AAAAAAAAAAE="'), 'PreconditionFailed');
    expect((await twins.getTwin('dev1')).version).toBe(2);
    expect(notified.desired).toEqual([]);
    expect(notified.changes).toHaveLength(1);
  });

  test('a desired change is sent to the device once, after it is committed, with $version', async () => {
    const { twins, notified } = await setup();
    await twins.updateTwin('dev1', null, { properties: { desired: { fan: { speed: 2 } } } }, '"*"');
    expect(notified.desired).toEqual([
      { target: { deviceId: 'dev1', moduleId: null }, patch: { fan: { speed: 2 }, $version: 2 }, committed: { fan: { speed: 2 } } },
    ]);
  });

  test('tags-only changes and reported patches reach onTwinChanged but not the device', async () => {
    const { twins, notified } = await setup();
    await twins.updateTwin('dev1', null, { tags: { a: 1 } });
    await twins.patchReported('dev1', null, { r: 1 });
    expect(notified.desired).toEqual([]);
    expect(notified.changes.map(({ change }) => [change.opType, change.version])).toEqual([
      ['updateTwin', 2],
      ['updateTwin', 3],
    ]);
  });

  test('an invalid patch changes nothing and tells nobody', async () => {
    const { twins, notified } = await setup();
    await expectRejects(twins.updateTwin('dev1', null, { properties: { desired: { 'bad key': 1 } } }), 'ArgumentInvalid', 'properties.desired');
    await expectRejects(twins.updateTwin('dev1', null, { properties: { reported: { x: 1 } } }), 'ArgumentInvalid', 'read-only');
    await expectRejects(twins.patchReported('dev1', null, { s: 'x'.repeat(5000) }), 'ArgumentInvalid', '4096');
    expect((await twins.getTwin('dev1')).version).toBe(1);
    expect(notified).toEqual({ desired: [], changes: [] });
  });

  test('a patch that changes nothing writes nothing and tells nobody', async () => {
    const { twins, notified } = await setup();
    expect((await twins.updateTwin('dev1', null, { etag: '*' })).version).toBe(1);
    expect(notified.changes).toEqual([]);
  });

  test('a listener that throws is logged and the change still succeeds', async () => {
    const logger = recordingLogger();
    const { twins } = await setup({
      logger,
      onDesiredPatched: () => {
        throw new Error('session gone');
      },
    });
    expect((await twins.updateTwin('dev1', null, { properties: { desired: { a: 1 } } })).version).toBe(2);
    expect(logger.errors).toEqual([{ event: 'twin_listener_failed', fields: expect.objectContaining({ listener: 'onDesiredPatched', deviceId: 'dev1' }) }]);
  });

  test('a replace sends the device the whole new desired with nulls for what it removed', async () => {
    const { twins, notified } = await setup();
    await twins.updateTwin('dev1', null, { tags: { t: 1 }, properties: { desired: { a: 1, b: { c: 1, d: 2 } } } });
    const twin = await twins.replaceTwin('dev1', null, { tags: { u: 2 }, properties: { desired: { b: { c: 1 } } } }, '*');
    expect(twin).toMatchObject({ version: 3, tags: { u: 2 }, properties: { desired: { b: { c: 1 }, $version: 3 } } });
    expect(notified.desired.at(-1)?.patch).toEqual({ b: { c: 1, d: null }, a: null, $version: 3 });
    expect(notified.changes.at(-1)?.change.opType).toBe('replaceTwin');
  });

  test('a write with a specific etag that loses a race fails with PreconditionFailed; with * it is retried', async () => {
    const specific = await setup({ races: { left: 1 } });
    await expectRejects(specific.twins.updateTwin('dev1', null, { tags: { a: 1 } }, '"AAAAAAAAAAE="'), 'PreconditionFailed');
    const wildcard = await setup({ races: { left: 1 } });
    expect((await wildcard.twins.updateTwin('dev1', null, { tags: { a: 1 } }, '"*"')).tags).toEqual({ racer0: true, a: 1 });
  });

  test('missing devices and modules are DeviceNotFound and ModuleNotFound', async () => {
    const { twins } = await setup();
    await expectRejects(twins.getTwin('ghost'), 'DeviceNotFound');
    await expectRejects(twins.updateTwin('ghost', null, { tags: { a: 1 } }), 'DeviceNotFound');
    await expectRejects(twins.replaceTwin('ghost', null, {}), 'DeviceNotFound');
    await expectRejects(twins.getTwin('dev1', 'm1'), 'ModuleNotFound', "Module 'm1'");
    await expectRejects(twins.getTwin('ghost', 'm1'), 'DeviceNotFound');
  });

  test('a module twin is its own, and its desired changes go to the module', async () => {
    const { twins, registry, notified } = await setup();
    const module = await registry.createModule({ deviceId: 'dev1', moduleId: 'm1' });
    const twin = await twins.updateTwin('dev1', 'm1', { properties: { desired: { x: 1 } } });
    expect(twin).toMatchObject({ deviceId: 'dev1', moduleId: 'm1', version: 2, identity: module });
    expect((await twins.getTwin('dev1')).version).toBe(1);
    expect(notified.desired[0]?.target).toEqual({ deviceId: 'dev1', moduleId: 'm1' });
    expect(await twins.patchReported('dev1', 'm1', { y: 1 })).toBe(2);
  });

  test('the model id a device announced shows in the service view', async () => {
    const { twins } = await setup();
    await twins.setModelId('dev1', null, 'dtmi:com:example:Thermostat;1');
    expect((await twins.getTwin('dev1')).modelId).toBe('dtmi:com:example:Thermostat;1');
    await expectRejects(twins.setModelId('ghost', null, 'dtmi:x;1'), 'DeviceNotFound');
  });

  test('twins of devices deleted through the registry are gone', async () => {
    const { twins, registry } = await setup();
    await registry.deleteDevice('dev1');
    await expectRejects(twins.getTwin('dev1'), 'DeviceNotFound');
  });
});
