/**
 * Identity changes made through the service API reach the very next MQTT connect, although the
 * hub keeps the identities it authenticated in memory: an identity connects once (so it is
 * cached), is changed with the official service SDK or plain REST, and connects again with a
 * plain `mqtt` client. On PostgreSQL the change also reaches a second hub on the same database.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import mqtt from 'mqtt';
import { Registry } from 'azure-iothub';
import { generateKey, sasRecipes } from '@tributary/core';
import { expiresIn } from '../support/sdk-calls.ts';
import { serviceToken } from '../support/service-calls.ts';
import { forEachStorage, sharedTestCa, spawnHub, type SpawnedHub } from './spawn-hub.ts';

/** How an MQTT CONNECT ended: accepted, or refused with this CONNACK return code. */
type ConnectOutcome = 'accepted' | { refusedWith: number };

/** Connects `deviceId` (or `deviceId/moduleId`) with a SAS token signed by `key`, then disconnects. */
async function connectOnce(hub: SpawnedHub, key: string, deviceId: string, moduleId?: string): Promise<ConnectOutcome> {
  const { hostName } = hub.info;
  const identity = moduleId === undefined ? deviceId : `${deviceId}/${moduleId}`;
  const password =
    moduleId === undefined
      ? sasRecipes.device(hostName, deviceId, key, expiresIn(3600))
      : sasRecipes.module(hostName, deviceId, moduleId, key, expiresIn(3600));
  const client = mqtt.connect(`mqtts://${hostName}:${hub.info.ports.mqtts}`, {
    clientId: identity,
    username: `${hostName}/${identity}/?api-version=2021-04-12`,
    password,
    protocolVersion: 4,
    reconnectPeriod: 0,
    ca: (await sharedTestCa()).certPem,
    servername: 'localhost', // Bun refuses an IP literal as TLS servername; the certificate covers localhost
  });
  try {
    return await new Promise<ConnectOutcome>((resolve, reject) => {
      client.once('connect', () => resolve('accepted'));
      client.once('error', (error: Error & { code?: number }) =>
        typeof error.code === 'number' ? resolve({ refusedWith: error.code }) : reject(error),
      );
    });
  } finally {
    await client.endAsync(true);
  }
}

const NOT_AUTHORIZED = { refusedWith: 5 };

forEachStorage('MQTT connects after identity changes', (storage) => {
  let hub: SpawnedHub;
  let registry: Registry;
  let counter = 0;

  beforeAll(async () => {
    hub = await spawnHub({ storage });
    registry = Registry.fromConnectionString(hub.connectionString());
  }, 60_000);
  afterAll(async () => {
    expect(await hub?.stop()).toBe(0);
  });

  async function connectedDevice(label: string): Promise<{ deviceId: string; key: string }> {
    const deviceId = `${label}-${storage}-${++counter}`;
    const { responseBody } = await registry.create({ deviceId });
    const key = responseBody.authentication!.symmetricKey!.primaryKey!;
    expect(await connectOnce(hub, key, deviceId)).toBe('accepted');
    return { deviceId, key };
  }

  test('GIVEN a device that connected WHEN it is disabled THEN its next CONNECT is refused, and once enabled again it is accepted', async () => {
    const { deviceId, key } = await connectedDevice('disabled');
    await registry.update({ deviceId, status: 'disabled' });
    expect(await connectOnce(hub, key, deviceId)).toEqual(NOT_AUTHORIZED);
    await registry.update({ deviceId, status: 'enabled' });
    expect(await connectOnce(hub, key, deviceId)).toBe('accepted');
  });

  test('GIVEN a device that connected WHEN its keys are replaced THEN a token of the old key is refused and one of the new key accepted', async () => {
    const { deviceId, key } = await connectedDevice('rotated');
    const [primaryKey, secondaryKey] = [generateKey(), generateKey()];
    await registry.update({ deviceId, status: 'enabled', authentication: { symmetricKey: { primaryKey, secondaryKey } } });
    expect(await connectOnce(hub, key, deviceId)).toEqual(NOT_AUTHORIZED);
    expect(await connectOnce(hub, secondaryKey, deviceId)).toBe('accepted');
  });

  test('GIVEN a module that connected WHEN its keys are replaced THEN a token of its old key is refused', async () => {
    const { deviceId } = await connectedDevice('module-host');
    const { responseBody } = await registry.addModule({ deviceId, moduleId: 'm1' });
    const key = responseBody.authentication!.symmetricKey!.primaryKey!;
    expect(await connectOnce(hub, key, deviceId, 'm1')).toBe('accepted');
    const primaryKey = generateKey();
    await registry.updateModule({ deviceId, moduleId: 'm1', authentication: { symmetricKey: { primaryKey, secondaryKey: primaryKey } } }, true);
    expect(await connectOnce(hub, key, deviceId, 'm1')).toEqual(NOT_AUTHORIZED);
    expect(await connectOnce(hub, primaryKey, deviceId, 'm1')).toBe('accepted');
  });

  test('GIVEN a device that connected WHEN a bulk import disables it THEN its next CONNECT is refused', async () => {
    const { deviceId, key } = await connectedDevice('bulk');
    const response = await hub.fetch('/devices?api-version=2021-04-12', {
      method: 'POST',
      headers: { authorization: serviceToken(hub), 'content-type': 'application/json' },
      body: JSON.stringify([{ id: deviceId, importMode: 'update', status: 'disabled' }]),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ isSuccessful: true });
    expect(await connectOnce(hub, key, deviceId)).toEqual(NOT_AUTHORIZED);
  });

  test('GIVEN a device that connected WHEN it is deleted and registered again THEN a token of its old key is refused', async () => {
    const { deviceId, key } = await connectedDevice('recreated');
    await registry.delete(deviceId);
    await registry.create({ deviceId });
    expect(await connectOnce(hub, key, deviceId)).toEqual(NOT_AUTHORIZED);
  });

  if (storage === 'postgres') {
    describe('two hubs on one database', () => {
      let second: SpawnedHub;

      beforeAll(async () => {
        second = await spawnHub({ storage, database: hub.database });
      }, 60_000);
      afterAll(async () => {
        expect(await second?.stop()).toBe(0);
      });

      test('GIVEN a device that connected to the second hub WHEN the first hub disables it THEN the second refuses its next CONNECT', async () => {
        const deviceId = `shared-${++counter}`;
        const { responseBody } = await registry.create({ deviceId });
        const key = responseBody.authentication!.symmetricKey!.primaryKey!;
        expect(await connectOnce(second, key, deviceId)).toBe('accepted');
        await registry.update({ deviceId, status: 'disabled' });
        expect(await connectOnce(second, key, deviceId)).toEqual(NOT_AUTHORIZED);
      });
    });
  }
});
