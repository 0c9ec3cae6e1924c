import { describe, expect, test } from 'bun:test';
import { FakeClock } from '../testing/fake-clock.ts';
import { createMemoryStores } from '../testing/memory-stores.ts';
import type { BulkDeviceOperation, ImportMode } from './bulk.ts';
import { identityEtag } from './etag.ts';
import { IdentityRegistry, MAX_LIST_DEVICES } from './registry.ts';
import type { Device, DeviceInput, DeviceStatus } from './types.ts';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');
const SHA1 = 'AB'.repeat(20);
const EDGE_SCOPE_PREFIX = 'ms-azure-iot-edge://';
const GENERATION_ID = /^\d{18}$/;
const SDK_EMPTY_KEYS = { type: 'sas', symmetricKey: { primaryKey: '', secondaryKey: '' } } as const;

function setup() {
  const clock = new FakeClock();
  const store = createMemoryStores().registry;
  const registry = new IdentityRegistry({ store, clock });
  return { clock, store, registry };
}

const quoted = (etag: string) => `"${etag}"`;
const etagOf = (identity: { etagVersion: number }) => quoted(identityEtag(identity.etagVersion));
const ids = (devices: Device[]) => devices.map((device) => device.deviceId);

describe('creating devices', () => {
  test('a new device gets an 18-digit generationId, etag version 1, Disconnected and enabled', async () => {
    const { registry, clock } = setup();
    const device = await registry.createDevice({ deviceId: 'dev1' });
    expect(device.generationId).toMatch(GENERATION_ID);
    expect(device.etagVersion).toBe(1);
    expect(identityEtag(device.etagVersion)).toBe('MQ==');
    expect(device).toMatchObject({
      deviceId: 'dev1',
      status: 'enabled',
      statusReason: null,
      statusUpdatedTime: clock.now(),
      connectionState: 'Disconnected',
      connectionStateUpdatedTime: null,
      lastActivityTime: null,
      cloudToDeviceMessageCount: 0,
      capabilities: { iotEdge: false },
      deviceScope: null,
      parentScopes: [],
    });
  });

  test('a new device without keys gets two different generated 32-byte keys', async () => {
    const { registry } = setup();
    const { authentication } = await registry.createDevice({ deviceId: 'dev1', authentication: SDK_EMPTY_KEYS });
    expect(authentication.type).toBe('sas');
    expect(Buffer.from(authentication.symmetricKey.primaryKey!, 'base64')).toHaveLength(32);
    expect(Buffer.from(authentication.symmetricKey.secondaryKey!, 'base64')).toHaveLength(32);
    expect(authentication.symmetricKey.primaryKey).not.toBe(authentication.symmetricKey.secondaryKey);
  });

  test('the created device is what the store holds afterwards', async () => {
    const { registry, store } = setup();
    const device = await registry.createDevice({
      deviceId: 'dev1',
      status: 'disabled',
      statusReason: 'not yet installed',
      authentication: { symmetricKey: { primaryKey: KEY_A, secondaryKey: KEY_B } },
    });
    expect(await store.getDevice('dev1')).toEqual(device);
    expect(await registry.getDevice('dev1')).toEqual(device);
    expect(device).toMatchObject({ status: 'disabled', statusReason: 'not yet installed' });
  });

  test('creating a taken deviceId fails with DeviceAlreadyExists and leaves the first device unchanged', async () => {
    const { registry, store } = setup();
    const first = await registry.createDevice({ deviceId: 'dev1' });
    await expect(
      registry.createDevice({ deviceId: 'dev1', status: 'disabled', authentication: { symmetricKey: { primaryKey: KEY_A } } }),
    ).rejects.toMatchObject({ code: 'DeviceAlreadyExists' });
    expect(await store.getDevice('dev1')).toEqual(first);
  });

  test('a device re-created after deletion gets a new generationId', async () => {
    const { registry, clock } = setup();
    const first = await registry.createDevice({ deviceId: 'dev1' });
    await registry.deleteDevice('dev1', '*');
    clock.advance(1);
    const second = await registry.createDevice({ deviceId: 'dev1' });
    expect(second.generationId).toMatch(GENERATION_ID);
    expect(second.generationId).not.toBe(first.generationId);
  });

  test('an invalid deviceId is refused with ArgumentInvalid and nothing is stored', async () => {
    const { registry, store } = setup();
    await expect(registry.createDevice({ deviceId: 'dev/1' })).rejects.toMatchObject({ code: 'ArgumentInvalid' });
    expect(await store.statistics()).toMatchObject({ totalDeviceCount: 0 });
  });

  test('an invalid status value is refused with ArgumentInvalid and nothing is stored', async () => {
    const { registry, store } = setup();
    const input = { deviceId: 'dev1', status: 'Enabled' as DeviceStatus };
    await expect(registry.createDevice(input)).rejects.toMatchObject({ code: 'ArgumentInvalid' });
    expect(await store.getDevice('dev1')).toBeUndefined();
  });

  test('a statusReason over 128 characters is refused with ArgumentInvalid', async () => {
    const { registry, store } = setup();
    await expect(registry.createDevice({ deviceId: 'dev1', statusReason: 'x'.repeat(129) })).rejects.toMatchObject({
      code: 'ArgumentInvalid',
    });
    expect(await store.getDevice('dev1')).toBeUndefined();
    expect((await registry.createDevice({ deviceId: 'dev2', statusReason: 'x'.repeat(128) })).statusReason).toHaveLength(128);
  });

  test('an invalid key is refused with ArgumentInvalid and nothing is stored', async () => {
    const { registry, store } = setup();
    await expect(
      registry.createDevice({ deviceId: 'dev1', authentication: { symmetricKey: { primaryKey: 'short' } } }),
    ).rejects.toMatchObject({ code: 'ArgumentInvalid' });
    expect(await store.getDevice('dev1')).toBeUndefined();
  });

  test('a selfSigned device stores its uppercased thumbprint and no keys', async () => {
    const { registry } = setup();
    const device = await registry.createDevice({ deviceId: 'x509', authentication: { x509Thumbprint: { primaryThumbprint: SHA1.toLowerCase() } } });
    expect(device.authentication).toEqual({
      type: 'selfSigned',
      symmetricKey: { primaryKey: null, secondaryKey: null },
      x509Thumbprint: { primaryThumbprint: SHA1, secondaryThumbprint: null },
    });
  });
});

describe('reading devices', () => {
  test('getting a missing device fails with DeviceNotFound', async () => {
    const { registry } = setup();
    await expect(registry.getDevice('ghost')).rejects.toMatchObject({ code: 'DeviceNotFound' });
  });

  test('listing returns devices ordered by deviceId', async () => {
    const { registry } = setup();
    for (const deviceId of ['charlie', 'alpha', 'bravo']) await registry.createDevice({ deviceId });
    expect(ids(await registry.listDevices())).toEqual(['alpha', 'bravo', 'charlie']);
  });

  test('listing with top returns at most that many devices, the first by deviceId', async () => {
    const { registry } = setup();
    for (const deviceId of ['charlie', 'alpha', 'bravo']) await registry.createDevice({ deviceId });
    expect(ids(await registry.listDevices({ top: 1 }))).toEqual(['alpha']);
    expect(ids(await registry.listDevices({ top: 2 }))).toEqual(['alpha', 'bravo']);
    expect(ids(await registry.listDevices({ top: MAX_LIST_DEVICES }))).toEqual(['alpha', 'bravo', 'charlie']);
  });

  test('listing after a deviceId continues from the next device', async () => {
    const { registry } = setup();
    for (const deviceId of ['charlie', 'alpha', 'bravo']) await registry.createDevice({ deviceId });
    expect(ids(await registry.listDevices({ top: 1, afterDeviceId: 'alpha' }))).toEqual(['bravo']);
    expect(ids(await registry.listDevices({ afterDeviceId: 'bravo' }))).toEqual(['charlie']);
  });

  test('an empty registry lists no devices', async () => {
    const { registry } = setup();
    expect(await registry.listDevices()).toEqual([]);
  });

  for (const top of [0, -1, MAX_LIST_DEVICES + 1, 1.5, Number.NaN]) {
    test(`listing with top ${top} is refused with ArgumentInvalid`, async () => {
      const { registry } = setup();
      await expect(registry.listDevices({ top })).rejects.toMatchObject({ code: 'ArgumentInvalid' });
    });
  }

  test('statistics count all, enabled and disabled devices', async () => {
    const { registry } = setup();
    expect(await registry.statistics()).toEqual({ totalDeviceCount: 0, enabledDeviceCount: 0, disabledDeviceCount: 0 });
    await registry.createDevice({ deviceId: 'a' });
    await registry.createDevice({ deviceId: 'b' });
    await registry.createDevice({ deviceId: 'c', status: 'disabled' });
    expect(await registry.statistics()).toEqual({ totalDeviceCount: 3, enabledDeviceCount: 2, disabledDeviceCount: 1 });
    await registry.updateDevice({ deviceId: 'a', status: 'disabled' }, '*');
    await registry.deleteDevice('b', '*');
    expect(await registry.statistics()).toEqual({ totalDeviceCount: 2, enabledDeviceCount: 0, disabledDeviceCount: 2 });
  });

  test('service statistics count the connected devices', async () => {
    const { registry, store } = setup();
    await registry.createDevice({ deviceId: 'a' });
    const b = await registry.createDevice({ deviceId: 'b' });
    expect(await registry.serviceStatistics()).toEqual({ connectedDeviceCount: 0 });
    await store.recordConnections([{ deviceId: b.deviceId, moduleId: null, isConnected: true, atMs: 1, lastActivityTime: 1 }]);
    expect(await registry.serviceStatistics()).toEqual({ connectedDeviceCount: 1 });
  });
});

describe('updating devices', () => {
  for (const ifMatch of ['*', '"*"']) {
    test(`updating with If-Match ${ifMatch} replaces the device and moves the etag`, async () => {
      const { registry, store } = setup();
      const created = await registry.createDevice({ deviceId: 'dev1' });
      const updated = await registry.updateDevice({ deviceId: 'dev1', status: 'disabled', statusReason: 'stolen' }, ifMatch);
      expect(updated).toMatchObject({ status: 'disabled', statusReason: 'stolen', etagVersion: 2, generationId: created.generationId });
      expect(await store.getDevice('dev1')).toEqual(updated);
    });
  }

  test('updating with the current etag succeeds', async () => {
    const { registry, store } = setup();
    const created = await registry.createDevice({ deviceId: 'dev1' });
    const updated = await registry.updateDevice({ deviceId: 'dev1', status: 'disabled' }, etagOf(created));
    expect(updated.etagVersion).toBe(2);
    expect(await store.getDevice('dev1')).toEqual(updated);
  });

  test('updating without If-Match succeeds', async () => {
    const { registry, store } = setup();
    await registry.createDevice({ deviceId: 'dev1' });
    const updated = await registry.updateDevice({ deviceId: 'dev1', status: 'disabled' });
    expect((await store.getDevice('dev1'))?.status).toBe('disabled');
    expect(updated.etagVersion).toBe(2);
  });

  test('updating with a stale etag fails with PreconditionFailed and changes nothing', async () => {
    const { registry, store } = setup();
    const created = await registry.createDevice({ deviceId: 'dev1' });
    const current = await registry.updateDevice({ deviceId: 'dev1', statusReason: 'first' }, '*');
    await expect(registry.updateDevice({ deviceId: 'dev1', status: 'disabled' }, etagOf(created))).rejects.toMatchObject({
      code: 'PreconditionFailed',
    });
    expect(await store.getDevice('dev1')).toEqual(current);
  });

  test('updating a missing device fails with DeviceNotFound and creates nothing', async () => {
    const { registry, store } = setup();
    await expect(registry.updateDevice({ deviceId: 'ghost', status: 'disabled' }, '*')).rejects.toMatchObject({
      code: 'DeviceNotFound',
    });
    expect(await store.getDevice('ghost')).toBeUndefined();
  });

  test('updating with an invalid status value fails with ArgumentInvalid and changes nothing', async () => {
    const { registry, store } = setup();
    const created = await registry.createDevice({ deviceId: 'dev1' });
    await expect(registry.updateDevice({ deviceId: 'dev1', status: 'off' as DeviceStatus }, '*')).rejects.toMatchObject({
      code: 'ArgumentInvalid',
    });
    expect(await store.getDevice('dev1')).toEqual(created);
  });

  test('a status change sets statusUpdatedTime to now; an update keeping the status leaves it', async () => {
    const { registry, clock } = setup();
    const created = await registry.createDevice({ deviceId: 'dev1' });
    const createdAt = clock.now();
    expect(created.statusUpdatedTime).toBe(createdAt);

    clock.advance(60_000);
    const sameStatus = await registry.updateDevice({ deviceId: 'dev1', status: 'enabled', statusReason: 'checked' }, '*');
    expect(sameStatus.statusUpdatedTime).toBe(createdAt);

    clock.advance(60_000);
    const disabledAt = clock.now();
    const disabled = await registry.updateDevice({ deviceId: 'dev1', status: 'disabled' }, '*');
    expect(disabled.statusUpdatedTime).toBe(disabledAt);

    clock.advance(60_000);
    const reasonOnly = await registry.updateDevice({ deviceId: 'dev1', statusReason: 'still off' }, '*');
    expect(reasonOnly).toMatchObject({ status: 'disabled', statusUpdatedTime: disabledAt });
  });

  test('an update without authentication keeps the device keys', async () => {
    const { registry, store } = setup();
    const created = await registry.createDevice({ deviceId: 'dev1' });
    await registry.updateDevice({ deviceId: 'dev1', status: 'disabled' }, '*');
    expect((await store.getDevice('dev1'))?.authentication).toEqual(created.authentication);
  });

  test('an update with the empty keys the SDK sends keeps the device keys', async () => {
    const { registry, store } = setup();
    const created = await registry.createDevice({ deviceId: 'dev1' });
    await registry.updateDevice({ deviceId: 'dev1', status: 'disabled', authentication: SDK_EMPTY_KEYS }, '*');
    expect((await store.getDevice('dev1'))?.authentication).toEqual(created.authentication);
  });

  test('an update naming new keys replaces them', async () => {
    const { registry, store } = setup();
    await registry.createDevice({ deviceId: 'dev1' });
    await registry.updateDevice({ deviceId: 'dev1', authentication: { symmetricKey: { primaryKey: KEY_A, secondaryKey: KEY_B } } }, '*');
    expect((await store.getDevice('dev1'))?.authentication.symmetricKey).toEqual({ primaryKey: KEY_A, secondaryKey: KEY_B });
  });

  test('an update with an invalid key fails with ArgumentInvalid and changes nothing', async () => {
    const { registry, store } = setup();
    const created = await registry.createDevice({ deviceId: 'dev1' });
    await expect(
      registry.updateDevice({ deviceId: 'dev1', authentication: { symmetricKey: { primaryKey: 'not base64!' } } }, '*'),
    ).rejects.toMatchObject({ code: 'ArgumentInvalid' });
    expect(await store.getDevice('dev1')).toEqual(created);
  });

  test('a status change on a selfSigned device without authentication keeps its thumbprint authentication', async () => {
    const { registry, store } = setup();
    const created = await registry.createDevice({
      deviceId: 'x509',
      authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: SHA1 } },
    });
    await registry.updateDevice({ deviceId: 'x509', status: 'disabled' }, '*');
    expect((await store.getDevice('x509'))?.authentication).toEqual(created.authentication);
  });

  test('an update keeps generationId and connection bookkeeping', async () => {
    const { registry, store } = setup();
    const created = await registry.createDevice({ deviceId: 'dev1' });
    await store.recordConnections([{ deviceId: 'dev1', moduleId: null, isConnected: true, atMs: 40, lastActivityTime: 42 }]);
    await store.setCloudToDeviceMessageCount('dev1', 3);
    const updated = await registry.updateDevice({ deviceId: 'dev1', status: 'disabled' }, '*');
    expect(updated).toMatchObject({
      generationId: created.generationId,
      connectionState: 'Connected',
      lastActivityTime: 42,
      cloudToDeviceMessageCount: 3,
    });
  });
});

describe('deleting devices', () => {
  test('deleting with * removes the device', async () => {
    const { registry, store } = setup();
    await registry.createDevice({ deviceId: 'dev1' });
    await registry.deleteDevice('dev1', '"*"');
    expect(await store.getDevice('dev1')).toBeUndefined();
    await expect(registry.getDevice('dev1')).rejects.toMatchObject({ code: 'DeviceNotFound' });
  });

  test('deleting with the current etag removes the device', async () => {
    const { registry, store } = setup();
    const created = await registry.createDevice({ deviceId: 'dev1' });
    await registry.deleteDevice('dev1', etagOf(created));
    expect(await store.getDevice('dev1')).toBeUndefined();
  });

  test('deleting with a stale etag fails with PreconditionFailed and the device is still there', async () => {
    const { registry, store } = setup();
    const created = await registry.createDevice({ deviceId: 'dev1' });
    const current = await registry.updateDevice({ deviceId: 'dev1', status: 'disabled' }, '*');
    await expect(registry.deleteDevice('dev1', etagOf(created))).rejects.toMatchObject({ code: 'PreconditionFailed' });
    expect(await store.getDevice('dev1')).toEqual(current);
  });

  test('deleting a missing device fails with DeviceNotFound', async () => {
    const { registry } = setup();
    await expect(registry.deleteDevice('ghost', '*')).rejects.toMatchObject({ code: 'DeviceNotFound' });
  });

  test('deleting a device removes its modules too', async () => {
    const { registry, store } = setup();
    await registry.createDevice({ deviceId: 'dev1' });
    await registry.createModule({ deviceId: 'dev1', moduleId: 'm1' });
    await registry.createModule({ deviceId: 'dev1', moduleId: 'm2' });
    await registry.deleteDevice('dev1', '*');
    expect(await store.getModule('dev1', 'm1')).toBeUndefined();
    expect(await store.getModule('dev1', 'm2')).toBeUndefined();
    await registry.createDevice({ deviceId: 'dev1' });
    expect(await registry.listModules('dev1')).toEqual([]);
  });

  test("deleting a device leaves other devices' modules alone", async () => {
    const { registry, store } = setup();
    await registry.createDevice({ deviceId: 'dev1' });
    await registry.createDevice({ deviceId: 'dev2' });
    const kept = await registry.createModule({ deviceId: 'dev2', moduleId: 'm1' });
    await registry.createModule({ deviceId: 'dev1', moduleId: 'm1' });
    await registry.deleteDevice('dev1', '*');
    expect(await store.getModule('dev2', 'm1')).toEqual(kept);
  });
});

describe('edge devices and their children', () => {
  test('an iotEdge device owns the scope ms-azure-iot-edge://{deviceId}-{generationId}', async () => {
    const { registry } = setup();
    const edge = await registry.createDevice({ deviceId: 'edge1', capabilities: { iotEdge: true } });
    expect(edge.capabilities).toEqual({ iotEdge: true });
    expect(edge.deviceScope).toBe(`${EDGE_SCOPE_PREFIX}edge1-${edge.generationId}`);
    expect(edge.parentScopes).toEqual([]);
  });

  test('an iotEdge device naming a scope other than its own is refused with InvalidDeviceScope', async () => {
    const { registry, store } = setup();
    await expect(
      registry.createDevice({ deviceId: 'edge1', capabilities: { iotEdge: true }, deviceScope: `${EDGE_SCOPE_PREFIX}edge1-1` }),
    ).rejects.toMatchObject({ code: 'InvalidDeviceScope' });
    expect(await store.getDevice('edge1')).toBeUndefined();
  });

  test('an update of an edge device keeps its scope', async () => {
    const { registry } = setup();
    const edge = await registry.createDevice({ deviceId: 'edge1', capabilities: { iotEdge: true } });
    const updated = await registry.updateDevice({ deviceId: 'edge1', status: 'disabled', deviceScope: edge.deviceScope }, '*');
    expect(updated.deviceScope).toBe(edge.deviceScope);
    expect(updated.capabilities.iotEdge).toBe(true);
  });

  test('a status-only update of a leaf device keeps its parent scope', async () => {
    const { registry, store } = setup();
    const edge = await registry.createDevice({ deviceId: 'edge1', capabilities: { iotEdge: true } });
    await registry.createDevice({ deviceId: 'leaf1', deviceScope: edge.deviceScope });
    const updated = await registry.updateDevice({ deviceId: 'leaf1', status: 'disabled' }, '*');
    expect(updated.deviceScope).toBe(edge.deviceScope);
    expect(updated.parentScopes).toEqual([edge.deviceScope!]);
    expect((await store.getDevice('leaf1'))?.parentScopes).toEqual([edge.deviceScope!]);
  });

  test('a leaf device is detached from its parent only by an explicit null deviceScope', async () => {
    const { registry } = setup();
    const edge = await registry.createDevice({ deviceId: 'edge1', capabilities: { iotEdge: true } });
    await registry.createDevice({ deviceId: 'leaf1', deviceScope: edge.deviceScope });
    const detached = await registry.updateDevice({ deviceId: 'leaf1', deviceScope: null }, '*');
    expect(detached.deviceScope).toBeNull();
    expect(detached.parentScopes).toEqual([]);
  });

  test("a leaf device naming an edge device's scope gets it as deviceScope and parentScopes", async () => {
    const { registry, store } = setup();
    const edge = await registry.createDevice({ deviceId: 'edge1', capabilities: { iotEdge: true } });
    const leaf = await registry.createDevice({ deviceId: 'leaf1', deviceScope: edge.deviceScope });
    expect(leaf.deviceScope).toBe(edge.deviceScope);
    expect(leaf.parentScopes).toEqual([edge.deviceScope!]);
    expect(await store.getDevice('leaf1')).toEqual(leaf);
  });

  test('a leaf device can name the scope of an edge device whose id ends in digits', async () => {
    const { registry } = setup();
    const edge = await registry.createDevice({ deviceId: 'gw-42', capabilities: { iotEdge: true } });
    const leaf = await registry.createDevice({ deviceId: 'leaf1', deviceScope: edge.deviceScope });
    expect(leaf.parentScopes).toEqual([edge.deviceScope!]);
  });

  test('a leaf device naming the scope of no registered edge device is refused and not stored', async () => {
    const { registry, store } = setup();
    await expect(
      registry.createDevice({ deviceId: 'leaf1', deviceScope: `${EDGE_SCOPE_PREFIX}ghost-123456789012345678` }),
    ).rejects.toMatchObject({ code: 'InvalidDeviceScope' });
    expect(await store.getDevice('leaf1')).toBeUndefined();
  });

  test('a leaf device naming the scope of an earlier incarnation of an edge device is refused', async () => {
    const { registry, clock, store } = setup();
    const first = await registry.createDevice({ deviceId: 'edge1', capabilities: { iotEdge: true } });
    await registry.deleteDevice('edge1', '*');
    clock.advance(1);
    await registry.createDevice({ deviceId: 'edge1', capabilities: { iotEdge: true } });
    await expect(registry.createDevice({ deviceId: 'leaf1', deviceScope: first.deviceScope })).rejects.toMatchObject({
      code: 'InvalidDeviceScope',
    });
    expect(await store.getDevice('leaf1')).toBeUndefined();
  });

  test('a leaf device naming a scope that is not an edge scope is refused with InvalidDeviceScope', async () => {
    const { registry, store } = setup();
    await expect(registry.createDevice({ deviceId: 'leaf1', deviceScope: 'some-other-scope' })).rejects.toMatchObject({
      code: 'InvalidDeviceScope',
    });
    expect(await store.getDevice('leaf1')).toBeUndefined();
  });

  test('updating a leaf device to name an unknown scope fails and changes nothing', async () => {
    const { registry, store } = setup();
    const leaf = await registry.createDevice({ deviceId: 'leaf1' });
    await expect(
      registry.updateDevice({ deviceId: 'leaf1', deviceScope: `${EDGE_SCOPE_PREFIX}ghost-123456789012345678` }, '*'),
    ).rejects.toMatchObject({ code: 'InvalidDeviceScope' });
    expect(await store.getDevice('leaf1')).toEqual(leaf);
  });
});

describe('regenerating device keys', () => {
  async function sasDevice() {
    const env = setup();
    const device = await env.registry.createDevice({
      deviceId: 'dev1',
      authentication: { symmetricKey: { primaryKey: KEY_A, secondaryKey: KEY_B } },
    });
    return { ...env, device };
  }

  test('primary replaces only the primary key and moves the etag', async () => {
    const { registry, store } = await sasDevice();
    const next = await registry.regenerateDeviceKeys('dev1', 'primary');
    expect(next.authentication.symmetricKey.primaryKey).not.toBe(KEY_A);
    expect(Buffer.from(next.authentication.symmetricKey.primaryKey!, 'base64')).toHaveLength(32);
    expect(next.authentication.symmetricKey.secondaryKey).toBe(KEY_B);
    expect(next.etagVersion).toBe(2);
    expect(await store.getDevice('dev1')).toEqual(next);
  });

  test('secondary replaces only the secondary key', async () => {
    const { registry, store } = await sasDevice();
    const next = await registry.regenerateDeviceKeys('dev1', 'secondary');
    expect(next.authentication.symmetricKey.primaryKey).toBe(KEY_A);
    expect(next.authentication.symmetricKey.secondaryKey).not.toBe(KEY_B);
    expect(Buffer.from(next.authentication.symmetricKey.secondaryKey!, 'base64')).toHaveLength(32);
    expect(await store.getDevice('dev1')).toEqual(next);
  });

  test('both replaces both keys with two different new keys', async () => {
    const { registry, store } = await sasDevice();
    const next = await registry.regenerateDeviceKeys('dev1', 'both');
    const { primaryKey, secondaryKey } = next.authentication.symmetricKey;
    expect([primaryKey, secondaryKey]).not.toContain(KEY_A);
    expect([primaryKey, secondaryKey]).not.toContain(KEY_B);
    expect(primaryKey).not.toBe(secondaryKey);
    expect(await store.getDevice('dev1')).toEqual(next);
  });

  test('swap exchanges the primary and secondary keys', async () => {
    const { registry, store } = await sasDevice();
    const next = await registry.regenerateDeviceKeys('dev1', 'swap');
    expect(next.authentication.symmetricKey).toEqual({ primaryKey: KEY_B, secondaryKey: KEY_A });
    expect(next.etagVersion).toBe(2);
    expect(await store.getDevice('dev1')).toEqual(next);
  });

  test('a stale etag no longer matches after regeneration', async () => {
    const { registry, store, device } = await sasDevice();
    const next = await registry.regenerateDeviceKeys('dev1', 'swap');
    await expect(registry.updateDevice({ deviceId: 'dev1', status: 'disabled' }, etagOf(device))).rejects.toMatchObject({
      code: 'PreconditionFailed',
    });
    expect(await store.getDevice('dev1')).toEqual(next);
  });

  test('regenerating keys of a selfSigned device fails with InvalidOperation and changes nothing', async () => {
    const { registry, store } = setup();
    const device = await registry.createDevice({ deviceId: 'x509', authentication: { x509Thumbprint: { primaryThumbprint: SHA1 } } });
    await expect(registry.regenerateDeviceKeys('x509', 'primary')).rejects.toMatchObject({ code: 'InvalidOperation' });
    expect(await store.getDevice('x509')).toEqual(device);
  });

  test('regenerating keys of a missing device fails with DeviceNotFound', async () => {
    const { registry } = setup();
    await expect(registry.regenerateDeviceKeys('ghost', 'both')).rejects.toMatchObject({ code: 'DeviceNotFound' });
  });
});

describe('modules', () => {
  async function withDevice() {
    const env = setup();
    await env.registry.createDevice({ deviceId: 'dev1' });
    return env;
  }

  test('a new module gets an 18-digit generationId, etag version 1, Disconnected and generated keys', async () => {
    const { registry, store } = await withDevice();
    const module = await registry.createModule({ deviceId: 'dev1', moduleId: 'm1' });
    expect(module).toMatchObject({
      deviceId: 'dev1',
      moduleId: 'm1',
      etagVersion: 1,
      managedBy: null,
      connectionState: 'Disconnected',
      cloudToDeviceMessageCount: 0,
    });
    expect(module.generationId).toMatch(GENERATION_ID);
    expect(module.authentication.type).toBe('sas');
    expect(Buffer.from(module.authentication.symmetricKey.primaryKey!, 'base64')).toHaveLength(32);
    expect(await store.getModule('dev1', 'm1')).toEqual(module);
  });

  test('creating a module under a missing device fails with DeviceNotFound and stores nothing', async () => {
    const { registry, store } = setup();
    await expect(registry.createModule({ deviceId: 'ghost', moduleId: 'm1' })).rejects.toMatchObject({ code: 'DeviceNotFound' });
    expect(await store.getModule('ghost', 'm1')).toBeUndefined();
  });

  test('creating a module with an invalid moduleId fails with ArgumentInvalid', async () => {
    const { registry, store } = await withDevice();
    await expect(registry.createModule({ deviceId: 'dev1', moduleId: 'm/1' })).rejects.toMatchObject({ code: 'ArgumentInvalid' });
    expect(await store.listModules('dev1')).toEqual([]);
  });

  test('creating a taken moduleId fails with ModuleAlreadyExistsOnDevice and leaves the first module unchanged', async () => {
    const { registry, store } = await withDevice();
    const first = await registry.createModule({ deviceId: 'dev1', moduleId: 'm1' });
    await expect(
      registry.createModule({ deviceId: 'dev1', moduleId: 'm1', managedBy: 'iotEdge', authentication: { symmetricKey: { primaryKey: KEY_A } } }),
    ).rejects.toMatchObject({ code: 'ModuleAlreadyExistsOnDevice' });
    expect(await store.getModule('dev1', 'm1')).toEqual(first);
  });

  test('the same moduleId may exist on two devices', async () => {
    const { registry } = await withDevice();
    await registry.createDevice({ deviceId: 'dev2' });
    await registry.createModule({ deviceId: 'dev1', moduleId: 'm1' });
    const second = await registry.createModule({ deviceId: 'dev2', moduleId: 'm1' });
    expect(await registry.getModule('dev2', 'm1')).toEqual(second);
  });

  test('getting a missing module fails with ModuleNotFound', async () => {
    const { registry } = await withDevice();
    await expect(registry.getModule('dev1', 'ghost')).rejects.toMatchObject({ code: 'ModuleNotFound' });
  });

  test("listing modules returns the device's modules ordered by moduleId", async () => {
    const { registry } = await withDevice();
    await registry.createDevice({ deviceId: 'dev2' });
    for (const moduleId of ['zeta', 'alpha', 'mid']) await registry.createModule({ deviceId: 'dev1', moduleId });
    await registry.createModule({ deviceId: 'dev2', moduleId: 'other' });
    expect((await registry.listModules('dev1')).map((m) => m.moduleId)).toEqual(['alpha', 'mid', 'zeta']);
  });

  test('listing the modules of a missing device fails with DeviceNotFound', async () => {
    const { registry } = setup();
    await expect(registry.listModules('ghost')).rejects.toMatchObject({ code: 'DeviceNotFound' });
  });

  for (const ifMatch of ['*', '"*"']) {
    test(`updating a module with If-Match ${ifMatch} replaces it, keeps its keys and moves the etag`, async () => {
      const { registry, store } = await withDevice();
      const created = await registry.createModule({ deviceId: 'dev1', moduleId: 'm1' });
      const updated = await registry.updateModule({ deviceId: 'dev1', moduleId: 'm1', managedBy: 'iotEdge', authentication: SDK_EMPTY_KEYS }, ifMatch);
      expect(updated).toMatchObject({ managedBy: 'iotEdge', etagVersion: 2, generationId: created.generationId });
      expect(updated.authentication).toEqual(created.authentication);
      expect(await store.getModule('dev1', 'm1')).toEqual(updated);
    });
  }

  test('updating a module with its current etag succeeds', async () => {
    const { registry, store } = await withDevice();
    const created = await registry.createModule({ deviceId: 'dev1', moduleId: 'm1' });
    const updated = await registry.updateModule({ deviceId: 'dev1', moduleId: 'm1', managedBy: 'me' }, etagOf(created));
    expect(await store.getModule('dev1', 'm1')).toEqual(updated);
    expect(updated.managedBy).toBe('me');
  });

  test('updating a module with a stale etag fails with PreconditionFailed and changes nothing', async () => {
    const { registry, store } = await withDevice();
    const created = await registry.createModule({ deviceId: 'dev1', moduleId: 'm1' });
    const current = await registry.updateModule({ deviceId: 'dev1', moduleId: 'm1', managedBy: 'first' }, '*');
    await expect(
      registry.updateModule({ deviceId: 'dev1', moduleId: 'm1', managedBy: 'second' }, etagOf(created)),
    ).rejects.toMatchObject({ code: 'PreconditionFailed' });
    expect(await store.getModule('dev1', 'm1')).toEqual(current);
  });

  test('updating a missing module fails with ModuleNotFound and creates nothing', async () => {
    const { registry, store } = await withDevice();
    await expect(registry.updateModule({ deviceId: 'dev1', moduleId: 'ghost' }, '*')).rejects.toMatchObject({
      code: 'ModuleNotFound',
    });
    expect(await store.getModule('dev1', 'ghost')).toBeUndefined();
  });

  test('updating a module without managedBy keeps it', async () => {
    const { registry } = await withDevice();
    await registry.createModule({ deviceId: 'dev1', moduleId: 'm1', managedBy: 'iotEdge' });
    expect((await registry.updateModule({ deviceId: 'dev1', moduleId: 'm1' }, '*')).managedBy).toBe('iotEdge');
  });

  test('deleting a module with * removes only that module', async () => {
    const { registry, store } = await withDevice();
    await registry.createModule({ deviceId: 'dev1', moduleId: 'm1' });
    const kept = await registry.createModule({ deviceId: 'dev1', moduleId: 'm2' });
    await registry.deleteModule('dev1', 'm1', '"*"');
    expect(await store.getModule('dev1', 'm1')).toBeUndefined();
    expect(await store.listModules('dev1')).toEqual([kept]);
    expect(await store.getDevice('dev1')).toBeDefined();
  });

  test('deleting a module with its current etag removes it', async () => {
    const { registry, store } = await withDevice();
    const created = await registry.createModule({ deviceId: 'dev1', moduleId: 'm1' });
    await registry.deleteModule('dev1', 'm1', etagOf(created));
    expect(await store.getModule('dev1', 'm1')).toBeUndefined();
  });

  test('deleting a module with a stale etag fails with PreconditionFailed and the module is still there', async () => {
    const { registry, store } = await withDevice();
    const created = await registry.createModule({ deviceId: 'dev1', moduleId: 'm1' });
    const current = await registry.updateModule({ deviceId: 'dev1', moduleId: 'm1', managedBy: 'x' }, '*');
    await expect(registry.deleteModule('dev1', 'm1', etagOf(created))).rejects.toMatchObject({ code: 'PreconditionFailed' });
    expect(await store.getModule('dev1', 'm1')).toEqual(current);
  });

  test('deleting a missing module fails with ModuleNotFound', async () => {
    const { registry } = await withDevice();
    await expect(registry.deleteModule('dev1', 'ghost', '*')).rejects.toMatchObject({ code: 'ModuleNotFound' });
  });

  test('regenerating module keys follows primary, secondary, both and swap', async () => {
    const { registry, store } = await withDevice();
    await registry.createModule({ deviceId: 'dev1', moduleId: 'm1', authentication: { symmetricKey: { primaryKey: KEY_A, secondaryKey: KEY_B } } });

    const swapped = await registry.regenerateModuleKeys('dev1', 'm1', 'swap');
    expect(swapped.authentication.symmetricKey).toEqual({ primaryKey: KEY_B, secondaryKey: KEY_A });
    expect(swapped.etagVersion).toBe(2);

    const primary = await registry.regenerateModuleKeys('dev1', 'm1', 'primary');
    expect(primary.authentication.symmetricKey.primaryKey).not.toBe(KEY_B);
    expect(primary.authentication.symmetricKey.secondaryKey).toBe(KEY_A);

    const secondary = await registry.regenerateModuleKeys('dev1', 'm1', 'secondary');
    expect(secondary.authentication.symmetricKey.primaryKey).toBe(primary.authentication.symmetricKey.primaryKey);
    expect(secondary.authentication.symmetricKey.secondaryKey).not.toBe(KEY_A);

    const both = await registry.regenerateModuleKeys('dev1', 'm1', 'both');
    expect(both.authentication.symmetricKey.primaryKey).not.toBe(secondary.authentication.symmetricKey.primaryKey);
    expect(both.authentication.symmetricKey.secondaryKey).not.toBe(secondary.authentication.symmetricKey.secondaryKey);
    expect(both.etagVersion).toBe(5);
    expect(await store.getModule('dev1', 'm1')).toEqual(both);
  });

  test('regenerating keys of a selfSigned module fails with InvalidOperation and changes nothing', async () => {
    const { registry, store } = await withDevice();
    const module = await registry.createModule({ deviceId: 'dev1', moduleId: 'm1', authentication: { x509Thumbprint: { primaryThumbprint: SHA1 } } });
    await expect(registry.regenerateModuleKeys('dev1', 'm1', 'both')).rejects.toMatchObject({ code: 'InvalidOperation' });
    expect(await store.getModule('dev1', 'm1')).toEqual(module);
  });

  test('regenerating keys of a missing module fails with ModuleNotFound', async () => {
    const { registry } = await withDevice();
    await expect(registry.regenerateModuleKeys('dev1', 'ghost', 'primary')).rejects.toMatchObject({ code: 'ModuleNotFound' });
  });
});

describe('bulk registry operations', () => {
  const op = (importMode: ImportMode, device: DeviceInput, extra: Partial<BulkDeviceOperation> = {}): BulkDeviceOperation => ({
    importMode,
    device,
    ...extra,
  });
  const creates = (count: number) =>
    Array.from({ length: count }, (_, i) => op('create', { deviceId: `dev-${String(i).padStart(3, '0')}` }));

  test('a request listing no devices is refused with ArgumentInvalid', async () => {
    const { registry } = setup();
    await expect(registry.bulk([])).rejects.toMatchObject({ code: 'ArgumentInvalid' });
  });

  test('a request listing 101 devices is refused with TooManyDevices and writes nothing', async () => {
    const { registry, store } = setup();
    await expect(registry.bulk(creates(101))).rejects.toMatchObject({ code: 'TooManyDevices' });
    expect(await store.statistics()).toMatchObject({ totalDeviceCount: 0 });
  });

  test('creating 100 devices in one request succeeds', async () => {
    const { registry, store } = setup();
    expect(await registry.bulk(creates(100))).toEqual({ isSuccessful: true, errors: [], warnings: [] });
    expect(await store.statistics()).toEqual({ totalDeviceCount: 100, enabledDeviceCount: 100, disabledDeviceCount: 0 });
    const device = await store.getDevice('dev-099');
    expect(device?.generationId).toMatch(GENERATION_ID);
    expect(Buffer.from(device!.authentication.symmetricKey.primaryKey!, 'base64')).toHaveLength(32);
  });

  const malformed: Array<[string, BulkDeviceOperation, string]> = [
    ['an invalid deviceId', op('create', { deviceId: 'bad id' }), 'ArgumentInvalid'],
    ['an invalid key', op('create', { deviceId: 'bad-key', authentication: { symmetricKey: { primaryKey: 'nope' } } }), 'ArgumentInvalid'],
    ['an invalid status', op('create', { deviceId: 'bad-status', status: 'on' as DeviceStatus }), 'ArgumentInvalid'],
    ['a bad thumbprint', op('create', { deviceId: 'bad-x509', authentication: { x509Thumbprint: { primaryThumbprint: 'xyz' } } }), 'ArgumentInvalid'],
    ['the first deviceId again', op('update', { deviceId: 'new-1' }), 'DeviceDefinedMultipleTimes'],
  ];
  for (const [what, bad, code] of malformed) {
    test(`an element with ${what} refuses the whole request with ${code} and writes nothing`, async () => {
      const { registry, store } = setup();
      const existing = await registry.createDevice({ deviceId: 'existing' });
      await expect(
        registry.bulk([op('create', { deviceId: 'new-1' }), op('delete', { deviceId: 'existing' }), bad, op('create', { deviceId: 'new-2' })]),
      ).rejects.toMatchObject({ code });
      expect(await store.getDevice('new-1')).toBeUndefined();
      expect(await store.getDevice('new-2')).toBeUndefined();
      expect(await store.getDevice('existing')).toEqual(existing);
      expect(await store.statistics()).toMatchObject({ totalDeviceCount: 1 });
    });
  }

  test('an element with an unknown import mode refuses the whole request with ArgumentInvalid and writes nothing', async () => {
    const { registry, store } = setup();
    await expect(
      registry.bulk([op('create', { deviceId: 'new-1' }), op('merge' as ImportMode, { deviceId: 'new-2' })]),
    ).rejects.toMatchObject({ code: 'ArgumentInvalid' });
    expect(await store.statistics()).toMatchObject({ totalDeviceCount: 0 });
  });

  test('create of an existing device reports DeviceAlreadyExists for it and creates the others', async () => {
    const { registry, store } = setup();
    const existing = await registry.createDevice({ deviceId: 'b' });
    const result = await registry.bulk([
      op('create', { deviceId: 'a' }),
      op('create', { deviceId: 'b', status: 'disabled' }),
      op('create', { deviceId: 'c' }),
    ]);
    expect(result).toEqual({
      isSuccessful: false,
      errors: [{ deviceId: 'b', errorCode: 'DeviceAlreadyExists', errorStatus: expect.any(String) }],
      warnings: [],
    });
    expect(await store.getDevice('a')).toBeDefined();
    expect(await store.getDevice('c')).toBeDefined();
    expect(await store.getDevice('b')).toEqual(existing);
  });

  test('update creates missing devices and overwrites existing ones, keeping their keys and generationId', async () => {
    const { registry, store } = setup();
    const existing = await registry.createDevice({ deviceId: 'a' });
    const result = await registry.bulk([
      op('update', { deviceId: 'a', status: 'disabled', authentication: SDK_EMPTY_KEYS }),
      op('update', { deviceId: 'b', status: 'disabled' }),
    ]);
    expect(result).toEqual({ isSuccessful: true, errors: [], warnings: [] });
    expect(await store.getDevice('a')).toMatchObject({
      status: 'disabled',
      etagVersion: 2,
      generationId: existing.generationId,
      authentication: existing.authentication,
    });
    expect(await store.getDevice('b')).toMatchObject({ status: 'disabled', etagVersion: 1 });
  });

  test('updateIfMatchETag with a wrong etag reports PreconditionFailed and leaves the device unchanged', async () => {
    const { registry, store } = setup();
    const created = await registry.createDevice({ deviceId: 'a' });
    const current = await registry.updateDevice({ deviceId: 'a', statusReason: 'moved on' }, '*');
    const result = await registry.bulk([
      op('updateIfMatchETag', { deviceId: 'a', status: 'disabled' }, { etag: identityEtag(created.etagVersion) }),
      op('updateIfMatchETag', { deviceId: 'b' }, { etag: identityEtag(7) }),
    ]);
    expect(result).toEqual({
      isSuccessful: false,
      errors: [{ deviceId: 'a', errorCode: 'PreconditionFailed', errorStatus: expect.any(String) }],
      warnings: [],
    });
    expect(await store.getDevice('a')).toEqual(current);
    expect(await store.getDevice('b')).toMatchObject({ etagVersion: 1 });
  });

  test('updateIfMatchETag without an etag on an existing device reports PreconditionFailed', async () => {
    const { registry, store } = setup();
    const created = await registry.createDevice({ deviceId: 'a' });
    const result = await registry.bulk([op('updateIfMatchETag', { deviceId: 'a', status: 'disabled' })]);
    expect(result.errors).toEqual([{ deviceId: 'a', errorCode: 'PreconditionFailed', errorStatus: expect.any(String) }]);
    expect(await store.getDevice('a')).toEqual(created);
  });

  test('updateIfMatchETag with the current etag overwrites the device', async () => {
    const { registry, store } = setup();
    const created = await registry.createDevice({ deviceId: 'a' });
    const result = await registry.bulk([op('updateIfMatchETag', { deviceId: 'a', status: 'disabled' }, { etag: etagOf(created) })]);
    expect(result.isSuccessful).toBe(true);
    expect(await store.getDevice('a')).toMatchObject({ status: 'disabled', etagVersion: 2 });
  });

  test('delete of a missing device reports DeviceNotFound and deletes the others', async () => {
    const { registry, store } = setup();
    await registry.createDevice({ deviceId: 'a' });
    await registry.createModule({ deviceId: 'a', moduleId: 'm1' });
    const result = await registry.bulk([op('delete', { deviceId: 'ghost' }), op('delete', { deviceId: 'a' })]);
    expect(result).toEqual({
      isSuccessful: false,
      errors: [{ deviceId: 'ghost', errorCode: 'DeviceNotFound', errorStatus: expect.any(String) }],
      warnings: [],
    });
    expect(await store.getDevice('a')).toBeUndefined();
    expect(await store.getModule('a', 'm1')).toBeUndefined();
  });

  test('deleteIfMatchETag with the current etag deletes the device', async () => {
    const { registry, store } = setup();
    const created = await registry.createDevice({ deviceId: 'a' });
    const result = await registry.bulk([op('deleteIfMatchETag', { deviceId: 'a' }, { etag: identityEtag(created.etagVersion) })]);
    expect(result).toEqual({ isSuccessful: true, errors: [], warnings: [] });
    expect(await store.getDevice('a')).toBeUndefined();
  });

  test('deleteIfMatchETag with a stale etag reports PreconditionFailed and the device is still there', async () => {
    const { registry, store } = setup();
    const created = await registry.createDevice({ deviceId: 'a' });
    const current = await registry.updateDevice({ deviceId: 'a', status: 'disabled' }, '*');
    const result = await registry.bulk([op('deleteIfMatchETag', { deviceId: 'a' }, { etag: etagOf(created) })]);
    expect(result.errors).toEqual([{ deviceId: 'a', errorCode: 'PreconditionFailed', errorStatus: expect.any(String) }]);
    expect(await store.getDevice('a')).toEqual(current);
  });

  test('update of an existing edge device carrying its own deviceScope (as get() returns it) overwrites it', async () => {
    const { registry, store } = setup();
    const edge = await registry.createDevice({ deviceId: 'edge1', capabilities: { iotEdge: true } });
    const input: DeviceInput = { deviceId: 'edge1', status: 'disabled', capabilities: { iotEdge: true }, deviceScope: edge.deviceScope };
    expect(await registry.bulk([op('update', input)])).toEqual({ isSuccessful: true, errors: [], warnings: [] });
    expect(await store.getDevice('edge1')).toMatchObject({ status: 'disabled', deviceScope: edge.deviceScope, etagVersion: 2 });
  });

  test('delete of an edge device given as the full device (as removeDevices sends it) deletes it', async () => {
    const { registry, store } = setup();
    const edge = await registry.createDevice({ deviceId: 'edge1', capabilities: { iotEdge: true } });
    const input: DeviceInput = { deviceId: 'edge1', capabilities: { iotEdge: true }, deviceScope: edge.deviceScope };
    expect(await registry.bulk([op('delete', input)])).toEqual({ isSuccessful: true, errors: [], warnings: [] });
    expect(await store.getDevice('edge1')).toBeUndefined();
  });

  test('mixed modes in one request all apply in order', async () => {
    const { registry, store } = setup();
    await registry.createDevice({ deviceId: 'old' });
    const result = await registry.bulk([
      op('create', { deviceId: 'new' }),
      op('delete', { deviceId: 'old' }),
      op('update', { deviceId: 'upserted', status: 'disabled' }),
    ]);
    expect(result.isSuccessful).toBe(true);
    expect(ids(await store.listDevices({ limit: 10 }))).toEqual(['new', 'upserted']);
  });

  // Twin seeds (tags/desired) land in the twin row, which RegistryStore does not expose; the twin
  // engine's tests cover reading them back.
});
