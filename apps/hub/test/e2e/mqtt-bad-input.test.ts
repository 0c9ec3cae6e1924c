/**
 * Bad input on the MQTT endpoint, from a plain `mqtt` client and hand-made bytes over TLS: each
 * case closes or refuses only its own connection, the hub keeps serving a well-behaved device,
 * and nothing that device saw acknowledged is lost.
 */

import tls from 'node:tls';
import { afterAll, beforeAll, expect, test } from 'bun:test';
import mqtt, { type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { Registry } from 'azure-iothub';
import { sasRecipes } from '@tributary/core';
import { waitForDeviceEvents } from '../support/service-calls.ts';
import { forEachStorage, sharedTestCa, spawnHub, type SpawnedHub } from './spawn-hub.ts';

interface DeviceLogin {
  deviceId: string;
  username: string;
  password: string;
}

forEachStorage('MQTT bad input', (storage) => {
  let hub: SpawnedHub;
  let healthy: MqttClient;
  let healthyDevice: DeviceLogin;
  let counter = 0;
  const acknowledged: string[] = [];

  async function newLogin(label: string): Promise<DeviceLogin> {
    const deviceId = `${label}-${storage}-${++counter}`;
    const { responseBody } = await Registry.fromConnectionString(hub.connectionString()).create({ deviceId });
    const key = responseBody.authentication!.symmetricKey!.primaryKey!;
    return {
      deviceId,
      username: `${hub.info.hostName}/${deviceId}/?api-version=2021-04-12`,
      password: sasRecipes.device(hub.info.hostName, deviceId, key, Math.floor(Date.now() / 1000) + 3600),
    };
  }

  async function connectClient(login: DeviceLogin): Promise<MqttClient> {
    const ca = await sharedTestCa();
    const client = mqtt.connect(`mqtts://${hub.info.hostName}:8883`, {
      clientId: login.deviceId,
      username: login.username,
      password: login.password,
      protocolVersion: 4,
      clean: false,
      reconnectPeriod: 0,
      ca: ca.certPem,
      servername: 'localhost', // Bun refuses an IP literal as TLS servername; the certificate covers localhost
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    return client;
  }

  /** A raw TLS connection; resolves when the hub closes it, with everything it sent. */
  async function rawSession(chunks: Uint8Array[], timeoutMs = 5000): Promise<{ received: Buffer; isClosedByHub: boolean }> {
    const ca = await sharedTestCa();
    return new Promise((resolve) => {
      const received: Buffer[] = [];
      const socket = tls.connect({ host: hub.info.hostName, port: 8883, ca: ca.certPem, servername: 'localhost' }, () => {
        for (const chunk of chunks) socket.write(chunk);
      });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ received: Buffer.concat(received), isClosedByHub: false });
      }, timeoutMs);
      socket.on('data', (data: Buffer) => received.push(data));
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ received: Buffer.concat(received), isClosedByHub: true });
      });
      socket.on('error', () => {});
    });
  }

  const connectPacket = (login: DeviceLogin) =>
    mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: false,
      clientId: login.deviceId,
      keepalive: 60,
      username: login.username,
      password: Buffer.from(login.password),
    });

  /** Publishes on the healthy connection and records the message ids the hub acknowledged. */
  async function healthyPublish(messageId: string): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      healthy.publish(
        `devices/${healthyDevice.deviceId}/messages/events/%24.mid=${messageId}`,
        `payload ${messageId}`,
        { qos: 1 },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
    acknowledged.push(messageId);
  }

  beforeAll(async () => {
    hub = await spawnHub({ storage });
    healthyDevice = await newLogin('healthy');
    healthy = await connectClient(healthyDevice);
    await healthyPublish('before');
  }, 60_000);

  afterAll(async () => {
    healthy?.end(true);
    expect(await hub?.stop()).toBe(0);
  });

  test('garbage bytes close that connection', async () => {
    const { isClosedByHub } = await rawSession([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]);
    expect(isClosedByHub).toBe(true);
    await healthyPublish('after-garbage');
  });

  test('a packet other than CONNECT first closes the connection', async () => {
    const { isClosedByHub, received } = await rawSession([mqttPacket.generate({ cmd: 'pingreq' })]);
    expect(isClosedByHub).toBe(true);
    expect(received.length).toBe(0);
  });

  test('an oversized remaining length is refused before its payload arrives', async () => {
    const login = await newLogin('oversized-length');
    // PUBLISH QoS 0 declaring 200 MB (varint 0x80 0x80 0x80 0x64): only the header is ever sent.
    const header = Buffer.from([0x30, 0x80, 0x80, 0x80, 0x64]);
    const { isClosedByHub } = await rawSession([connectPacket(login), header]);
    expect(isClosedByHub).toBe(true);
    await healthyPublish('after-oversized-length');
  });

  test('a 300 KB publish closes the connection and is not acknowledged or stored', async () => {
    const login = await newLogin('big');
    const client = await connectClient(login);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    let isAcknowledged = false;
    client.publish(`devices/${login.deviceId}/messages/events/`, Buffer.alloc(300 * 1024, 120), { qos: 1 }, (error) => {
      if (!error) isAcknowledged = true;
    });
    await closed;
    client.end(true);
    expect(isAcknowledged).toBe(false);
    expect(await waitForDeviceEvents(hub, login.deviceId, () => false, 300)).toEqual([]);
    await healthyPublish('after-big');
  });

  test('a topic that is not valid UTF-8 closes the connection', async () => {
    const login = await newLogin('bad-utf8');
    const topic = Buffer.concat([Buffer.from(`devices/${login.deviceId}/messages/events/`), Buffer.from([0xc3, 0x28])]);
    const publish = Buffer.concat([Buffer.from([0x30, topic.length + 2 + 2, 0, topic.length]), topic, Buffer.from('hi')]);
    const { isClosedByHub } = await rawSession([connectPacket(login), publish]);
    expect(isClosedByHub).toBe(true);
    expect(await waitForDeviceEvents(hub, login.deviceId, () => false, 300)).toEqual([]);
  });

  test("publishing to another device's topic closes the connection and stores nothing for either", async () => {
    const login = await newLogin('trespasser');
    const client = await connectClient(login);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(`devices/${healthyDevice.deviceId}/messages/events/%24.mid=forged`, 'forged', { qos: 1 });
    await closed;
    client.end(true);
    const events = await waitForDeviceEvents(hub, healthyDevice.deviceId, () => false, 300);
    expect(events.map((event) => event.systemProperties['message-id'])).not.toContain('forged');
  });

  test('subscribing to # is refused with SUBACK 0x80 and the connection stays usable', async () => {
    const login = await newLogin('wildcard');
    const client = await connectClient(login);
    // mqtt.js 5 reports a 0x80 grant as an error that carries the SUBACK.
    const granted = await new Promise<number[]>((resolve) =>
      client.subscribe('#', { qos: 0 }, (error, result) =>
        resolve(error ? ((error as { packet?: { granted?: number[] } }).packet?.granted ?? []) : (result ?? []).map((g) => g.qos)),
      ),
    );
    expect(granted).toEqual([128]);
    await new Promise<void>((resolve, reject) =>
      client.publish(`devices/${login.deviceId}/messages/events/`, 'still here', { qos: 1 }, (error) => (error ? reject(error) : resolve())),
    );
    client.end(true);
  });

  test('QoS 2 publishes and wildcard topic names close the connection', async () => {
    for (const [topic, qos] of [
      ['devices/x/messages/events/', 2],
      ['devices/+/messages/events/', 1],
    ] as const) {
      const login = await newLogin('qos2');
      const publish = mqttPacket.generate({
        cmd: 'publish',
        topic: topic.replace('devices/x/', `devices/${login.deviceId}/`),
        payload: Buffer.from('x'),
        qos,
        messageId: 7,
        dup: false,
        retain: false,
      });
      const { isClosedByHub, received } = await rawSession([connectPacket(login), publish]);
      expect(isClosedByHub).toBe(true);
      // Only the CONNACK came back: no PUBACK or PUBREC.
      expect(received.equals(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }))).toBe(true);
    }
  });

  test('wrong credentials get CONNACK 5 and nothing else', async () => {
    const login = await newLogin('wrong-key');
    const forged = { ...login, password: sasRecipes.device(hub.info.hostName, login.deviceId, Buffer.alloc(32, 1).toString('base64'), Math.floor(Date.now() / 1000) + 600) };
    const { isClosedByHub, received } = await rawSession([connectPacket(forged)]);
    expect(isClosedByHub).toBe(true);
    expect([...received]).toEqual([0x20, 0x02, 0x00, 0x05]);
  });

  test('after all of it the healthy device still publishes and every acknowledged message is stored', async () => {
    await healthyPublish('last');
    const events = await waitForDeviceEvents(hub, healthyDevice.deviceId, (found) => found.length >= acknowledged.length);
    const stored = events.map((event) => event.systemProperties['message-id']);
    for (const messageId of acknowledged) expect(stored).toContain(messageId);
    expect((await hub.fetch('/health')).status).toBe(200);
  });
});
