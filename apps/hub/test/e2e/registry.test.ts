/**
 * The identity registry driven by the official `azure-iothub` Registry against a spawned hub on
 * port 443 of a private loopback address, trusted through the generated CA. Every expected
 * failure must surface as the SDK's own error class.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test';
import { serviceErrors as errors } from './service-sdk-errors.ts';
import { Registry } from 'azure-iothub';
import { parseIotHubConnectionString, sasRecipes } from '@tributary/core';
import { forEachStorage, spawnHub, type SpawnedHub } from './spawn-hub.ts';

const SAS_KEY = /^[A-Za-z0-9+/]{43}=$/;

/** The SDK's own REST client, for requests its public API never sends (a stale If-Match on a device). */
function restClientOf(registry: Registry): {
  executeApiCall(method: string, path: string, headers: Record<string, string>, body: unknown, done: (err: Error | null, result?: unknown) => void): void;
} {
  return (registry as unknown as { _restApiClient: ReturnType<typeof restClientOf> })._restApiClient;
}

function callRest(registry: Registry, method: string, path: string, headers: Record<string, string>, body: unknown) {
  return new Promise<unknown>((resolve, reject) =>
    restClientOf(registry).executeApiCall(method, path, headers, body, (err, result) => (err ? reject(err) : resolve(result))),
  );
}

forEachStorage('registry through the official azure-iothub SDK', (storage) => {
  let hub: SpawnedHub;
  let registry: Registry;
  let run = 0;
  const newId = (label: string) => `${label}-${storage}-${++run}`;

  beforeAll(async () => {
    hub = await spawnHub({ storage });
    registry = Registry.fromConnectionString(hub.connectionString('iothubowner'));
  }, 60_000);
  afterAll(async () => {
    expect(await hub?.stop()).toBe(0);
  });

  test('create generates two SAS keys and get returns the same identity', async () => {
    const deviceId = newId('created');
    const { responseBody: created } = await registry.create({ deviceId });
    expect(created.deviceId).toBe(deviceId);
    // The SDK's typings omit fields the service returns (authentication.type), hence the casts.
    expect((created.authentication as { type?: string }).type).toBe('sas');
    expect(created.authentication?.symmetricKey?.primaryKey).toMatch(SAS_KEY);
    expect(created.authentication?.symmetricKey?.secondaryKey).toMatch(SAS_KEY);
    expect(created.authentication?.symmetricKey?.primaryKey).not.toBe(created.authentication?.symmetricKey?.secondaryKey);
    expect(created.status).toBe('enabled');
    expect(String(created.connectionState)).toBe('Disconnected');
    expect(created.generationId).toMatch(/^\d{18}$/);

    const { responseBody: fetched } = await registry.get(deviceId);
    expect(fetched.etag).toBe(created.etag);
    expect(fetched.generationId).toBe(created.generationId);
    expect(fetched.authentication).toEqual(created.authentication);
  });

  test('update changes the status and moves the etag, keeping the keys', async () => {
    const deviceId = newId('update');
    const { responseBody: created } = await registry.create({ deviceId });
    const { responseBody: updated } = await registry.update({ deviceId, status: 'disabled', statusReason: 'decommissioned' });
    expect(updated.status).toBe('disabled');
    expect(updated.statusReason).toBe('decommissioned');
    expect(updated.etag).not.toBe(created.etag);
    expect(updated.authentication?.symmetricKey).toEqual(created.authentication?.symmetricKey);
    expect((await registry.get(deviceId)).responseBody.status).toBe('disabled');
  });

  test('a replace with the current etag succeeds and one with a stale etag fails with InvalidEtagError (412), changing nothing', async () => {
    const deviceId = newId('etag');
    const { responseBody: created } = await registry.create({ deviceId });
    const path = `/devices/${encodeURIComponent(deviceId)}?api-version=2021-04-12`;
    const json = { 'Content-Type': 'application/json; charset=utf-8' };

    const current = (await callRest(registry, 'PUT', path, { ...json, 'If-Match': `"${created.etag}"` }, { deviceId, status: 'disabled' })) as { etag: string; status: string };
    expect(current.status).toBe('disabled');

    const stale = callRest(registry, 'PUT', path, { ...json, 'If-Match': `"${created.etag}"` }, { deviceId, status: 'enabled' });
    await expect(stale).rejects.toBeInstanceOf(errors.InvalidEtagError);
    const after = (await registry.get(deviceId)).responseBody;
    expect(after.status).toBe('disabled');
    expect(after.etag).toBe(current.etag);
  });

  test('bulk update with an etag applies on a match and reports PreconditionFailed on a mismatch', async () => {
    const deviceId = newId('bulk-etag');
    const { responseBody: created } = await registry.create({ deviceId });
    const { responseBody: mismatch } = await registry.updateDevices([{ deviceId, status: 'disabled', etag: 'c3RhbGU=' }], false);
    expect(mismatch.isSuccessful).toBe(false);
    expect(mismatch.errors).toEqual([expect.objectContaining({ deviceId, errorCode: 'PreconditionFailed' })]);
    expect((await registry.get(deviceId)).responseBody.status).toBe('enabled');

    const { responseBody: match } = await registry.updateDevices([{ deviceId, status: 'disabled', etag: created.etag }], false);
    expect(match.isSuccessful).toBe(true);
    expect((await registry.get(deviceId)).responseBody.status).toBe('disabled');
  });

  test('list returns the registered devices', async () => {
    const ids = [newId('listed'), newId('listed')];
    for (const deviceId of ids) await registry.create({ deviceId });
    const { responseBody: devices } = await registry.list();
    const listed = devices.map((device) => device.deviceId);
    for (const deviceId of ids) expect(listed).toContain(deviceId);
  });

  test('modules: create with generated keys, get, list on the device, stale etag refused, remove', async () => {
    const deviceId = newId('with-module');
    await registry.create({ deviceId });
    const { responseBody: module } = await registry.addModule({ deviceId, moduleId: 'telemetry' });
    expect(module.moduleId).toBe('telemetry');
    expect(module.authentication?.symmetricKey?.primaryKey).toMatch(SAS_KEY);
    expect((await registry.getModule(deviceId, 'telemetry')).responseBody.generationId).toBe(module.generationId);
    expect((await registry.getModulesOnDevice(deviceId)).responseBody.map((m) => m.moduleId)).toEqual(['telemetry']);

    const { responseBody: updated } = await registry.updateModule({ ...module, managedBy: 'operator' }, false);
    expect(updated.managedBy).toBe('operator');
    await expect(registry.updateModule({ ...module, managedBy: 'late' }, false)).rejects.toBeInstanceOf(errors.InvalidEtagError);
    expect((await registry.getModule(deviceId, 'telemetry')).responseBody.managedBy).toBe('operator');

    await expect(registry.addModule({ deviceId, moduleId: 'telemetry' })).rejects.toBeInstanceOf(errors.DeviceAlreadyExistsError);
    await registry.removeModule(deviceId, 'telemetry');
    expect((await registry.getModulesOnDevice(deviceId)).responseBody).toEqual([]);
  });

  test('bulk-creating 100 devices registers all of them', async () => {
    const before = (await registry.getRegistryStatistics()).responseBody.totalDeviceCount;
    const devices = Array.from({ length: 100 }, (_, i) => ({ deviceId: newId(`bulk-${i}`) }));
    const { responseBody: result } = await registry.addDevices(devices);
    expect(result as unknown).toEqual({ isSuccessful: true, errors: [], warnings: [] });
    const after = (await registry.getRegistryStatistics()).responseBody;
    expect(after.totalDeviceCount - before).toBe(100);
    const sample = (await registry.get(devices[57]!.deviceId)).responseBody;
    expect(sample.authentication?.symmetricKey?.primaryKey).toMatch(SAS_KEY);
  });

  test('delete removes the device and a later get fails with DeviceNotFoundError', async () => {
    const deviceId = newId('deleted');
    await registry.create({ deviceId });
    await registry.delete(deviceId);
    await expect(registry.get(deviceId)).rejects.toBeInstanceOf(errors.DeviceNotFoundError);
    await expect(registry.delete(deviceId)).rejects.toBeInstanceOf(errors.DeviceNotFoundError);
  });

  test('creating a taken deviceId fails with DeviceAlreadyExistsError and keeps the first device', async () => {
    const deviceId = newId('taken');
    const { responseBody: first } = await registry.create({ deviceId });
    await expect(registry.create({ deviceId, status: 'disabled' })).rejects.toBeInstanceOf(errors.DeviceAlreadyExistsError);
    const kept = (await registry.get(deviceId)).responseBody;
    expect(kept.generationId).toBe(first.generationId);
    expect(kept.status).toBe('enabled');
  });

  test('an invalid deviceId fails with ArgumentError and registers nothing', async () => {
    const before = (await registry.getRegistryStatistics()).responseBody.totalDeviceCount;
    await expect(registry.create({ deviceId: 'invalid/name' })).rejects.toBeInstanceOf(errors.ArgumentError);
    await expect(registry.create({ deviceId: 'x'.repeat(129) })).rejects.toBeInstanceOf(errors.ArgumentError);
    expect((await registry.getRegistryStatistics()).responseBody.totalDeviceCount).toBe(before);
  });

  test('a connection string with a wrong key fails with UnauthorizedError', async () => {
    const wrongKey = hub.connectionString('iothubowner').replace(/SharedAccessKey=.*/, `SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`);
    await expect(Registry.fromConnectionString(wrongKey).list()).rejects.toBeInstanceOf(errors.UnauthorizedError);
  });

  test('an expired token fails with UnauthorizedError', async () => {
    const owner = parseIotHubConnectionString(hub.connectionString('iothubowner'));
    if (owner.kind !== 'service') throw new Error('expected a service connection string');
    const expiredAt = Math.floor(Date.now() / 1000) - 3600;
    const token = sasRecipes.service(owner.hostName, owner.sharedAccessKeyName, owner.sharedAccessKey, expiredAt);
    await expect(Registry.fromSharedAccessSignature(token).list()).rejects.toBeInstanceOf(errors.UnauthorizedError);
    const fresh = sasRecipes.service(owner.hostName, owner.sharedAccessKeyName, owner.sharedAccessKey, expiredAt + 7200);
    expect(Array.isArray((await Registry.fromSharedAccessSignature(fresh).list()).responseBody)).toBe(true);
  });

  test('a registryRead policy can read but its writes fail with UnauthorizedError and change nothing', async () => {
    const deviceId = newId('read-only');
    await registry.create({ deviceId });
    const reader = Registry.fromConnectionString(hub.connectionString('registryRead'));
    expect((await reader.get(deviceId)).responseBody.deviceId).toBe(deviceId);
    await expect(reader.create({ deviceId: newId('by-reader') })).rejects.toBeInstanceOf(errors.UnauthorizedError);
    await expect(reader.delete(deviceId)).rejects.toBeInstanceOf(errors.UnauthorizedError);
    await expect(reader.addDevices([{ deviceId: newId('by-reader') }])).rejects.toBeInstanceOf(errors.UnauthorizedError);
    expect((await registry.get(deviceId)).responseBody.deviceId).toBe(deviceId);
    const service = Registry.fromConnectionString(hub.connectionString('service'));
    await expect(service.get(deviceId)).rejects.toBeInstanceOf(errors.UnauthorizedError);
  });

  test('statistics count enabled and disabled devices', async () => {
    const before = (await registry.getRegistryStatistics()).responseBody;
    await registry.create({ deviceId: newId('stat-on') });
    await registry.create({ deviceId: newId('stat-off'), status: 'disabled' });
    const after = (await registry.getRegistryStatistics()).responseBody;
    expect(after.totalDeviceCount - before.totalDeviceCount).toBe(2);
    expect(after.enabledDeviceCount - before.enabledDeviceCount).toBe(1);
    expect(after.disabledDeviceCount - before.disabledDeviceCount).toBe(1);
  });
});
