/**
 * The AMQP device endpoint driven by the official device SDK (`azure-iot-device` with the `Amqp`
 * and `AmqpWs` transports) against a spawned hub on 5671 and 443 of a private loopback address.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Client as DeviceClient, Message } from 'azure-iot-device';
import { Amqp, AmqpWs } from 'azure-iot-device-amqp';
import { createDeviceOverRest, sendCloudToDevice, serviceToken, waitForDeviceEvents } from '../support/service-calls.ts';
import { forEachStorage, LOCALHOST_HUB_ENV, sharedTestCa, spawnHub, type SpawnedHub } from './spawn-hub.ts';

type Transport = typeof Amqp | typeof AmqpWs;
const TRANSPORTS: [string, Transport][] = [
  ['Amqp', Amqp],
  ['AmqpWs', AmqpWs],
];

forEachStorage('AMQP device endpoint', (storage) => {
  // AmqpWs reaches 443 of a private loopback address; Amqp (rhea puts the host in TLS SNI, which
  // Bun refuses for an IP literal) reaches a second hub as localhost:<random AMQPS port>.
  let wsHub: SpawnedHub;
  let tlsHub: SpawnedHub;
  let counter = 0;
  const clients: DeviceClient[] = [];

  beforeAll(async () => {
    [wsHub, tlsHub] = await Promise.all([spawnHub({ storage }), spawnHub({ storage, env: LOCALHOST_HUB_ENV })]);
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(clients.map((client) => Promise.race([client.close(), Bun.sleep(2000)])));
    expect(await wsHub?.stop()).toBe(0);
    expect(await tlsHub?.stop()).toBe(0);
  }, 30_000);

  const hubFor = (Transport: Transport) => (Transport === Amqp ? tlsHub : wsHub);

  async function newDevice(label: string, Transport: Transport) {
    const hub = hubFor(Transport);
    const deviceId = `${label}-${storage}-${++counter}`;
    const key = await createDeviceOverRest(hub, deviceId);
    const hostName = Transport === Amqp ? `localhost:${hub.info.ports.amqps}` : hub.info.hostName;
    return { hub, deviceId, connectionString: `HostName=${hostName};DeviceId=${deviceId};SharedAccessKey=${key}` };
  }

  async function connect(connectionString: string, Transport: Transport): Promise<DeviceClient> {
    const client = DeviceClient.fromConnectionString(connectionString, Transport);
    clients.push(client);
    await client.setOptions({ ca: (await sharedTestCa()).certPem });
    await client.open();
    return client;
  }

  for (const [name, Transport] of TRANSPORTS) {
    describe(`over ${name}`, () => {
      test('telemetry with properties is accepted only once stored, with every system property', async () => {
        const { hub, deviceId, connectionString } = await newDevice('amqp-telemetry', Transport);
        const client = await connect(connectionString, Transport);
        const message = new Message(JSON.stringify({ temperature: 19 }));
        message.messageId = '9b2c7c5e-6f55-4d77-8a0a-b1f6d1f7a001';
        message.correlationId = 'corr-7';
        message.contentType = 'application/json';
        message.properties.add('zone', 'north/east');
        await client.sendEvent(message);
        const events = await waitForDeviceEvents(hub, deviceId, (found) => found.length > 0, 1000);
        expect(events).toHaveLength(1);
        expect(events[0]!.bodyText).toBe('{"temperature":19}');
        expect(events[0]!.properties).toEqual({ zone: 'north/east' });
        expect(events[0]!.systemProperties).toMatchObject({
          'message-id': '9b2c7c5e-6f55-4d77-8a0a-b1f6d1f7a001',
          'correlation-id': 'corr-7',
          'content-type': 'application/json',
          'iothub-connection-device-id': deviceId,
        });
      }, 30_000);

      test('a cloud-to-device message is received and completed', async () => {
        const { hub, deviceId, connectionString } = await newDevice('amqp-c2d', Transport);
        const client = await connect(connectionString, Transport);
        const received = new Promise<Message>((resolve) => client.on('message', resolve));
        await Bun.sleep(300);
        expect((await sendCloudToDevice(hub, deviceId, 'close the valve', { 'iothub-app-mode': 'now' })).status).toBe(204);
        const message = await received;
        expect(message.data.toString()).toBe('close the valve');
        expect(message.properties.getValue('mode')).toBe('now');
        await client.complete(message);
        const queued = async () =>
          ((await (await hub.fetch(`/devices/${deviceId}`, { headers: { authorization: serviceToken(hub) } })).json()) as { cloudToDeviceMessageCount: number })
            .cloudToDeviceMessageCount;
        for (let i = 0; i < 50 && (await queued()) !== 0; i++) await Bun.sleep(20);
        expect(await queued()).toBe(0);
      }, 30_000);
    });
  }
});
