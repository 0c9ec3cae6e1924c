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
import { TwinService, type TwinServiceDeps } from './twin-service.ts';
import { MAX_TWIN_WRITE_ATTEMPTS } from './twin-write-batches.ts';
import type { TwinStore, TwinTarget } from './twin-store.ts';

interface Notified {
  desired: { target: TwinTarget; patch: JsonObject; committed: JsonObject | undefined }[];
  changes: { target: TwinTarget; change: TwinChange }[];
}

/** A store that lets another writer get in first, on `races.deviceId` only (any twin when unset), on the next `races.left` compare-and-set steps. */
function racingStore(inner: TwinStore, races: { left: number; deviceId?: string }): TwinStore {
  return {
    getTwins: (targets) => inner.getTwins(targets),
    setModelId: (deviceId, moduleId, modelId) => inner.setModelId(deviceId, moduleId, modelId),
    async updateTwins(updates) {
      for (const { deviceId, moduleId } of updates) {
        if (races.left === 0 || (races.deviceId !== undefined && races.deviceId !== deviceId)) continue;
        races.left--;
        const [stored] = await inner.getTwins([{ deviceId, moduleId }]);
        const { state } = stored!;
        const racer = { ...state, tags: { ...state.tags, [`racer${races.left}`]: true }, version: state.version + 1 };
        await inner.updateTwins([{ deviceId, moduleId, next: racer, expectedVersion: state.version }]);
      }
      return inner.updateTwins(updates);
    },
  };
}

/** A store that counts its read and write steps and the twins each step held. */
function countingStore(inner: TwinStore) {
  const steps = { reads: [] as number[], writes: [] as number[] };
  const store: TwinStore = {
    getTwins: (targets) => (steps.reads.push(targets.length), inner.getTwins(targets)),
    setModelId: (deviceId, moduleId, modelId) => inner.setModelId(deviceId, moduleId, modelId),
    updateTwins: (updates) => (steps.writes.push(updates.length), inner.updateTwins(updates)),
  };
  return { store, steps };
}

/** A service over `setup`'s twins whose store counts its steps, telling changes where `setup`'s does. */
function countingService({ stores, memoryTwins, notified }: Awaited<ReturnType<typeof setup>>) {
  const { store, steps } = countingStore(memoryTwins);
  const counting = new TwinService({
    twins: store,
    registry: stores.registry,
    clock: new FakeClock(),
    onTwinChanged: (target, change) => notified.changes.push({ target, change }),
  });
  return { counting, steps };
}

function recordingLogger(): Logger & { errors: { event: string; fields: LogFields }[] } {
  const errors: { event: string; fields: LogFields }[] = [];
  const logger = { errors, debug() {}, info() {}, warn() {}, error: (event: string, fields: LogFields = {}) => errors.push({ event, fields }), child: () => logger };
  return logger;
}

async function setup(overrides: Partial<TwinServiceDeps> & { races?: { left: number; deviceId?: string } } = {}) {
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
    const { state } = (await memoryTwins.getTwins([{ deviceId: 'dev1', moduleId: null }]))[0]!;
    expect(state.reported).toEqual({ fw: '2.0' });
    expect(state.tags).toEqual({ racer1: true, racer0: true });
    expect(state.version).toBe(4);
  });

  test('patches sent together are combined: one read and one write, each its own $version, told in order', async () => {
    const context = await setup();
    const { memoryTwins, notified } = context;
    const { counting, steps } = countingService(context);
    const patches = ([{ a: 1 }, { b: 2 }, { a: 3 }] as JsonObject[]).map((patch) => counting.patchReported('dev1', null, patch));
    expect(await Promise.all(patches)).toEqual([2, 3, 4]);
    expect(steps).toEqual({ reads: [1], writes: [1] });
    expect((await memoryTwins.getTwins([{ deviceId: 'dev1', moduleId: null }]))[0]!.state.reported).toEqual({ a: 3, b: 2 });
    expect(notified.changes.map(({ change }) => change.version)).toEqual([2, 3, 4]);
  });

  test('concurrent patches of many devices reach the store as one read step and one write step', async () => {
    const context = await setup();
    const { registry, memoryTwins, notified } = context;
    const ids = Array.from({ length: 20 }, (_, index) => `many${index}`);
    for (const deviceId of ids) await registry.createDevice({ deviceId });
    const { counting, steps } = countingService(context);
    const patches = ids.flatMap((deviceId) => [counting.patchReported(deviceId, null, { n: 1 }), counting.patchReported(deviceId, null, { n: 2 })]);
    expect(await Promise.all(patches)).toEqual(ids.flatMap(() => [2, 3]));
    expect(steps).toEqual({ reads: [ids.length], writes: [ids.length] });
    const after = await memoryTwins.getTwins(ids.map((deviceId) => ({ deviceId, moduleId: null })));
    expect(after.map((twin) => [twin?.state.reported, twin?.state.version])).toEqual(ids.map(() => [{ n: 2 }, 3]));
    // A later turn of the event loop makes batches of its own, again one step for all its devices.
    const first = counting.patchReported('many0', null, { n: 3 });
    await new Promise((resolve) => setImmediate(resolve));
    const next = ids.map((deviceId) => counting.patchReported(deviceId, null, { n: 4 }));
    expect(await first).toBe(4);
    expect(await Promise.all(next)).toEqual(ids.map((deviceId) => (deviceId === 'many0' ? 5 : 4)));
    expect(steps).toEqual({ reads: [ids.length, 1, ids.length], writes: [ids.length, 1, ids.length] });
    expect(notified.changes.filter(({ target }) => target.deviceId === 'many7').map(({ change }) => change.version)).toEqual([2, 3, 4]);
  });

  test('in a batch, a missing device fails its own requests and a twin that lost a race is retried alone', async () => {
    const { stores, registry, memoryTwins } = await setup();
    await registry.createDevice({ deviceId: 'dev2' });
    const races = { left: 1, deviceId: 'dev2' };
    const { store, steps } = countingStore(racingStore(memoryTwins, races));
    const batched = new TwinService({ twins: store, registry: stores.registry, clock: new FakeClock() });
    const outcomes = await Promise.allSettled([
      batched.patchReported('dev1', null, { a: 1 }),
      batched.patchReported('ghost', null, { a: 1 }),
      batched.patchReported('dev2', null, { a: 1 }),
      batched.patchReported('dev1', 'ghost-module', { a: 1 }),
    ]);
    expect(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : (outcome.reason as HubError).code))).toEqual([
      2,
      'DeviceNotFound',
      2,
      'ModuleNotFound',
    ]);
    // dev2 lost its race once: read and written again on its own.
    expect(steps).toEqual({ reads: [4, 1], writes: [2, 1] });
    const [dev2] = await memoryTwins.getTwins([{ deviceId: 'dev2', moduleId: null }]);
    expect(dev2!.state).toMatchObject({ tags: { racer0: true }, reported: { a: 1 }, version: 3 });
  });

  test('lanes must be a positive integer', async () => {
    const { stores, memoryTwins } = await setup();
    expect(() => new TwinService({ twins: memoryTwins, registry: stores.registry, clock: new FakeClock(), lanes: 0 })).toThrow('lanes');
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
    expect((await memoryTwins.getTwins([{ deviceId: 'dev1', moduleId: null }]))[0]!.state.reported).toEqual({ a: 1, b: 2, c: 3 });
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
