/**
 * The local HTTP port's WebSockets, as the console and its browser simulators use them: a device
 * speaking MQTT over `ws://127.0.0.1:<http>/$iothub/websocket`, and the live event feed as a
 * WebSocket on `/events/live`.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test';
import mqtt from 'mqtt';
import { Registry } from 'azure-iothub';
import { sasRecipes } from '@tributary/core';
import { serviceToken } from '../support/service-calls.ts';
import { forEachStorage, spawnHub, type SpawnedHub } from './spawn-hub.ts';

forEachStorage('local WebSockets', (storage) => {
  let hub: SpawnedHub;
  beforeAll(async () => {
    hub = await spawnHub({ storage });
  }, 60_000);
  afterAll(async () => {
    expect(await hub?.stop()).toBe(0);
  });

  test('a device publishing over MQTT-over-WebSocket on the local port shows up on the live WebSocket feed', async () => {
    const deviceId = `ws-sim-${storage}`;
    const { responseBody } = await Registry.fromConnectionString(hub.connectionString()).create({ deviceId });
    const key = responseBody.authentication!.symmetricKey!.primaryKey!;
    const local = `127.0.0.1:${hub.info.ports.http}`;

    const feed = new WebSocket(`ws://${local}/events/live?deviceId=${deviceId}`, {
      headers: { authorization: serviceToken(hub) },
    } as unknown as string[]);
    const received: { deviceId: string; bodyText?: string; systemProperties: Record<string, string> }[] = [];
    feed.onmessage = (message) => received.push(JSON.parse(String(message.data)));
    await new Promise<void>((resolve, reject) => {
      feed.onopen = () => resolve();
      feed.onerror = () => reject(new Error('the live feed did not open'));
    });

    const device = mqtt.connect(`ws://${local}/$iothub/websocket`, {
      clientId: deviceId,
      username: `${hub.info.hostName}/${deviceId}/?api-version=2021-04-12`,
      password: sasRecipes.device(hub.info.hostName, deviceId, key, Math.floor(Date.now() / 1000) + 3600),
      protocolVersion: 4,
      reconnectPeriod: 0,
      wsOptions: { protocol: 'mqtt' },
    });
    await new Promise<void>((resolve, reject) => {
      device.once('connect', () => resolve());
      device.once('error', reject);
    });
    await new Promise<void>((resolve, reject) =>
      device.publish(`devices/${deviceId}/messages/events/%24.mid=sim-1`, '{"t":1}', { qos: 1 }, (error) => (error ? reject(error) : resolve())),
    );
    for (let i = 0; i < 100 && received.length === 0; i++) await Bun.sleep(20);
    device.end(true);
    feed.close();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ deviceId, bodyText: '{"t":1}' });
    expect(received[0]!.systemProperties['message-id']).toBe('sim-1');
  }, 30_000);

  test('the live WebSocket feed refuses a caller without a ServiceConnect token', async () => {
    const upgrade = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' };
    const anonymous = await fetch(`http://127.0.0.1:${hub.info.ports.http}/events/live`, { headers: upgrade });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('iothub-errorcode')).toBe('IotHubUnauthorizedAccess');
    const readOnly = await fetch(`http://127.0.0.1:${hub.info.ports.http}/events/live`, {
      headers: { ...upgrade, authorization: serviceToken(hub, 'registryRead') },
    });
    expect(readOnly.status).toBe(401);
  });
});
