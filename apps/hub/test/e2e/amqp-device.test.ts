/**
 * The AMQP device endpoint driven by the official device SDK (`azure-iot-device` with the `Amqp`
 * and `AmqpWs` transports) against a spawned hub on 5671 and 443 of a private loopback address:
 * telemetry, C2D complete/abandon/reject, twins, direct methods, modules, SAS renewal on the same
 * `$cbs` link, and X.509 devices authenticated from the TLS client certificate.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Client as DeviceClient, Message, ModuleClient } from 'azure-iot-device';
import { Amqp, AmqpWs } from 'azure-iot-device-amqp';
import { sasRecipes } from '@tributary/core';
import { createSelfSignedDeviceCertificate } from '../support/device-certificates.ts';
import {
  createDeviceOverRest,
  createModuleOverRest,
  getTwinOverRest,
  invokeMethodOverRest,
  peekCloudToDevice,
  sendCloudToDevice,
  serviceToken,
  updateTwinOverRest,
  waitForDeviceEvents,
} from '../support/service-calls.ts';
import { callback, expiresIn, nextEvent } from '../support/sdk-calls.ts';
import { forEachStorage, LOCALHOST_HUB_ENV, sharedTestCa, spawnHub, type SpawnedHub } from './spawn-hub.ts';

type Transport = typeof Amqp | typeof AmqpWs;
const TRANSPORTS: [string, Transport][] = [
  ['Amqp', Amqp],
  ['AmqpWs', AmqpWs],
];


/**
 * Fails with `what` after `ms` instead of hanging until the test times out: bun kills the
 * processes a timed-out test left running, which would take both hubs down for every later test.
 */
function inTime<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The C2D messages a client receives, in order, awaited one at a time. */
function inbox(client: DeviceClient) {
  const received: Message[] = [];
  const waiting: ((message: Message) => void)[] = [];
  client.on('message', (message: Message) => {
    received.push(message);
    waiting.shift()?.(message);
  });
  let taken = 0;
  return {
    received,
    /** The next message not yet taken. */
    next(timeoutMs = 10_000): Promise<Message> {
      const index = taken++;
      if (received[index]) return Promise.resolve(received[index]);
      return nextEvent<Message>((done) => waiting.push(done), timeoutMs);
    },
  };
}

/** AMQP `header.delivery_count` of a received C2D message: earlier delivery attempts. */
const deliveryCountOf = (message: Message): number => (message.transportObj as { delivery_count?: number } | undefined)?.delivery_count ?? 0;

forEachStorage('AMQP device endpoint', (storage) => {
  // AmqpWs reaches 443 of a private loopback address; Amqp (rhea puts the host in TLS SNI, which
  // Bun refuses for an IP literal) reaches a second hub as localhost:<random AMQPS port>.
  let wsHub: SpawnedHub;
  let tlsHub: SpawnedHub;
  let counter = 0;
  const clients: { close(): Promise<unknown> }[] = [];

  beforeAll(async () => {
    [wsHub, tlsHub] = await Promise.all([spawnHub({ storage }), spawnHub({ storage, env: LOCALHOST_HUB_ENV })]);
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(clients.map((client) => Promise.race([client.close(), Bun.sleep(2000)])));
    expect(await wsHub?.stop()).toBe(0);
    expect(await tlsHub?.stop()).toBe(0);
  }, 30_000);

  const hubFor = (Transport: Transport) => (Transport === Amqp ? tlsHub : wsHub);
  /** The HostName a device of this transport uses (and signs its tokens for). */
  const hostNameFor = (Transport: Transport) => (Transport === Amqp ? `localhost:${tlsHub.info.ports.amqps}` : wsHub.info.hostName);

  async function newDevice(label: string, Transport: Transport) {
    const hub = hubFor(Transport);
    const deviceId = `${label}-${storage}-${++counter}`;
    const key = await createDeviceOverRest(hub, deviceId);
    const hostName = hostNameFor(Transport);
    return { hub, deviceId, key, hostName, connectionString: `HostName=${hostName};DeviceId=${deviceId};SharedAccessKey=${key}` };
  }

  /**
   * Opens a device or module client. The CA goes in through the SDK's own setOptions: under Bun
   * the WebSocket client does not see CAs added with tls.setDefaultCACertificates.
   */
  async function open<T extends DeviceClient | ModuleClient>(client: T): Promise<T> {
    clients.push(client);
    await client.setOptions({ ca: (await sharedTestCa()).certPem });
    await inTime(client.open(), 'open');
    return client;
  }

  const connect = (connectionString: string, Transport: Transport) => open(DeviceClient.fromConnectionString(connectionString, Transport));

  async function queuedCount(hub: SpawnedHub, deviceId: string): Promise<number> {
    const response = await hub.fetch(`/devices/${deviceId}`, { headers: { authorization: serviceToken(hub) } });
    return ((await response.json()) as { cloudToDeviceMessageCount: number }).cloudToDeviceMessageCount;
  }

  /** Polls until the device's C2D queue is empty (settlement reaches the hub asynchronously). */
  async function queueDrained(hub: SpawnedHub, deviceId: string): Promise<number> {
    for (let i = 0; i < 100 && (await queuedCount(hub, deviceId)) !== 0; i++) await Bun.sleep(20);
    return queuedCount(hub, deviceId);
  }

  /**
   * Invokes a method, retrying while the hub answers 404 DeviceNotOnline: the SDK attaches its
   * methods links lazily after `onDeviceMethod`, and nothing tells the test when they are up.
   */
  async function invokeOnceListening(hub: SpawnedHub, deviceId: string, methodName: string, payload: unknown, moduleId?: string) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const result = await invokeMethodOverRest(hub, deviceId, { methodName, payload, responseTimeoutInSeconds: 10 }, moduleId);
      if (result.httpStatus !== 404 || Date.now() > deadline) return result;
      await Bun.sleep(50);
    }
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
        await inTime(client.sendEvent(message), 'sendEvent');
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
        await inTime(client.complete(message), 'complete');
        expect(await queueDrained(hub, deviceId)).toBe(0);
      }, 30_000);

      test('an abandoned cloud-to-device message is redelivered with a higher delivery count, then completed', async () => {
        const { hub, deviceId, connectionString } = await newDevice('amqp-abandon', Transport);
        const client = await connect(connectionString, Transport);
        const messages = inbox(client);
        await Bun.sleep(300); // the SDK attaches its C2D link on the first listener
        expect((await sendCloudToDevice(hub, deviceId, 'try again', { 'iothub-messageid': 'abandon-1' })).status).toBe(204);
        const first = await messages.next();
        expect(first.messageId).toBe('abandon-1');
        expect(deliveryCountOf(first)).toBe(0);
        await inTime(client.abandon(first), 'abandon');
        const second = await messages.next();
        expect(second.messageId).toBe('abandon-1');
        expect(second.data.toString()).toBe('try again');
        expect(deliveryCountOf(second)).toBeGreaterThan(deliveryCountOf(first));
        await inTime(client.complete(second), 'complete');
        expect(await queueDrained(hub, deviceId)).toBe(0);
        expect(messages.received).toHaveLength(2);
      }, 30_000);

      test('a rejected cloud-to-device message is not redelivered and leaves the queue empty', async () => {
        const { hub, deviceId, connectionString } = await newDevice('amqp-reject', Transport);
        const client = await connect(connectionString, Transport);
        const messages = inbox(client);
        await Bun.sleep(300);
        expect((await sendCloudToDevice(hub, deviceId, 'poison', { 'iothub-messageid': 'reject-1' })).status).toBe(204);
        const rejected = await messages.next();
        expect(rejected.messageId).toBe('reject-1');
        await inTime(client.reject(rejected), 'reject');
        expect(await queueDrained(hub, deviceId)).toBe(0);
        expect(await peekCloudToDevice(hub, deviceId)).toEqual([]);
        // The queue is FIFO: had the rejected message come back, it would arrive before this one.
        expect((await sendCloudToDevice(hub, deviceId, 'next', { 'iothub-messageid': 'after-reject' })).status).toBe(204);
        const next = await messages.next();
        expect(next.messageId).toBe('after-reject');
        await inTime(client.complete(next), 'complete');
        expect(await queueDrained(hub, deviceId)).toBe(0);
        expect(messages.received.map((message) => message.messageId)).toEqual(['reject-1', 'after-reject']);
      }, 30_000);

      test('twin: get, reported updates (null deletes), desired patches live and one set while offline', async () => {
        const { hub, deviceId, connectionString } = await newDevice('amqp-twin', Transport);
        let client = await connect(connectionString, Transport);
        let twin = await inTime(client.getTwin(), 'getTwin');
        expect(twin.properties.desired.$version).toBe(1);
        await inTime(callback((done) => twin.properties.reported.update({ firmware: '1.0', nested: { a: 1, b: 2 } }, done)), 'reported update');
        await inTime(callback((done) => twin.properties.reported.update({ nested: { b: null } }, done)), 'reported update');
        const serviceTwin = await getTwinOverRest(hub, deviceId);
        expect(serviceTwin.properties.reported).toMatchObject({ firmware: '1.0', nested: { a: 1 } });
        expect(serviceTwin.properties.reported.nested.b).toBeUndefined();

        const patched = nextEvent<Record<string, unknown>>((done) =>
          twin.on('properties.desired', (delta: Record<string, unknown>) => {
            if (delta.interval === 5) done(delta);
          }),
        );
        await Bun.sleep(500); // the SDK subscribes (twin PUT) on the first listener; nothing signals its answer
        await updateTwinOverRest(hub, deviceId, { properties: { desired: { interval: 5 } } });
        const delta = await patched;
        expect(delta.interval).toBe(5);
        expect(delta.$version).toBe(2);

        await inTime(client.close(), 'close');
        await updateTwinOverRest(hub, deviceId, { properties: { desired: { interval: 9 } } });
        client = await connect(connectionString, Transport);
        twin = await inTime(client.getTwin(), 'getTwin');
        expect(twin.properties.desired.interval).toBe(9);
        expect(twin.properties.desired.$version).toBe(3);
        expect(twin.properties.reported).toMatchObject({ firmware: '1.0', nested: { a: 1 } });
      }, 30_000);

      test('direct methods round-trip the payloads null, "", "foo", {} and {"k1":"v1"}', async () => {
        const { hub, deviceId, connectionString } = await newDevice('amqp-methods', Transport);
        const client = await connect(connectionString, Transport);
        const seen: unknown[] = [];
        client.onDeviceMethod('echo', (request, response) => {
          seen.push(request.payload);
          void response.send(200, request.payload);
        });
        for (const payload of [null, '', 'foo', {}, { k1: 'v1' }]) {
          const { httpStatus, body } = await invokeOnceListening(hub, deviceId, 'echo', payload);
          expect(httpStatus).toBe(200);
          expect(body).toEqual({ status: 200, payload });
        }
        expect(seen).toEqual([null, '', 'foo', {}, { k1: 'v1' }]);
      }, 30_000);

      test('a module client sends telemetry with its module id and reads and updates its twin', async () => {
        const { hub, deviceId, hostName } = await newDevice('amqp-module', Transport);
        const key = await createModuleOverRest(hub, deviceId, 'sensor');
        const client = await open(
          ModuleClient.fromConnectionString(`HostName=${hostName};DeviceId=${deviceId};ModuleId=sensor;SharedAccessKey=${key}`, Transport),
        );
        await inTime(client.sendEvent(new Message('from the module')), 'sendEvent');
        const events = await waitForDeviceEvents(hub, deviceId, (found) => found.length > 0);
        expect(events.map((event) => [event.moduleId, event.bodyText])).toEqual([['sensor', 'from the module']]);
        expect(events[0]!.systemProperties['iothub-connection-device-id']).toBe(deviceId);
        expect(events[0]!.systemProperties['iothub-connection-module-id']).toBe('sensor');

        await updateTwinOverRest(hub, deviceId, { properties: { desired: { rate: 3 } } }, 'sensor');
        const twin = await inTime(client.getTwin(), 'getTwin');
        expect(twin.properties.desired.rate).toBe(3);
        await inTime(callback((done) => twin.properties.reported.update({ sampling: 'fast' }, done)), 'reported update');
        expect((await getTwinOverRest(hub, deviceId, 'sensor')).properties.reported.sampling).toBe('fast');
        // The module's twin is its own: the device twin did not change.
        expect((await getTwinOverRest(hub, deviceId)).properties.reported.sampling).toBeUndefined();
      }, 30_000);

      test("a module's output messages reach the event stream with their output name", async () => {
        const { hub, deviceId, hostName } = await newDevice('amqp-module-output', Transport);
        const key = await createModuleOverRest(hub, deviceId, 'filter');
        const client = await open(
          ModuleClient.fromConnectionString(`HostName=${hostName};DeviceId=${deviceId};ModuleId=filter;SharedAccessKey=${key}`, Transport),
        );
        await inTime(client.sendOutputEvent('alerts', new Message('over threshold')), 'sendOutputEvent');
        const events = await waitForDeviceEvents(hub, deviceId, (found) => found.length > 0);
        expect(events.map((event) => [event.moduleId, event.bodyText])).toEqual([['filter', 'over threshold']]);
        expect(events[0]!.systemProperties['iothub-outputname']).toBe('alerts');
      }, 30_000);

      test('C2D, methods and the twin keep working after the SAS token is renewed on the same connection', async () => {
        const { hub, deviceId, key, hostName } = await newDevice('amqp-renewal', Transport);
        // As Azure's e2e tests do: only a client created from a token is renewed by the caller.
        const client = await open(DeviceClient.fromSharedAccessSignature(sasRecipes.device(hostName, deviceId, key, expiresIn(3600)), Transport));
        const twin = await inTime(client.getTwin(), 'getTwin');
        client.onDeviceMethod('ping', (_request, response) => void response.send(200, 'pong'));
        const messages = inbox(client);
        await Bun.sleep(300);
        let disconnects = 0;
        client.on('disconnect', () => disconnects++);

        const renewed = sasRecipes.device(hostName, deviceId, key, expiresIn(7200));
        await inTime(callback<unknown>((done) => client.updateSharedAccessSignature(renewed, (error) => done(error))), 'updateSharedAccessSignature');

        const { httpStatus, body } = await invokeOnceListening(hub, deviceId, 'ping', null);
        expect(httpStatus).toBe(200);
        expect(body).toEqual({ status: 200, payload: 'pong' });
        expect((await sendCloudToDevice(hub, deviceId, 'after renewal')).status).toBe(204);
        const message = await messages.next();
        expect(message.data.toString()).toBe('after renewal');
        await inTime(client.complete(message), 'complete');
        expect(await queueDrained(hub, deviceId)).toBe(0);
        await inTime(callback((done) => twin.properties.reported.update({ renewed: true }, done)), 'reported update');
        expect((await getTwinOverRest(hub, deviceId)).properties.reported.renewed).toBe(true);
        await inTime(client.sendEvent(new Message('after renewal')), 'sendEvent');
        expect((await waitForDeviceEvents(hub, deviceId, (found) => found.length > 0)).map((event) => event.bodyText)).toEqual(['after renewal']);
        expect(disconnects).toBe(0);
      }, 30_000);
    });
  }

  test('an X.509 self-signed device connects over Amqp and sends; one presenting another certificate is refused with UnauthorizedError', async () => {
    const deviceId = `amqp-x509-self-${storage}-${++counter}`;
    const good = await createSelfSignedDeviceCertificate(deviceId);
    const wrong = await createSelfSignedDeviceCertificate(deviceId);
    const created = await tlsHub.fetch(`/devices/${deviceId}`, {
      method: 'PUT',
      headers: { authorization: serviceToken(tlsHub), 'content-type': 'application/json' },
      body: JSON.stringify({ deviceId, authentication: { x509Thumbprint: { primaryThumbprint: good.sha1Thumbprint } } }),
    });
    expect(created.status).toBeLessThan(300);
    const x509String = `HostName=localhost:${tlsHub.info.ports.amqps};DeviceId=${deviceId};x509=true`;
    const ca = (await sharedTestCa()).certPem;

    const client = DeviceClient.fromConnectionString(x509String, Amqp);
    clients.push(client);
    await client.setOptions({ cert: good.certPem, key: good.keyPem, ca });
    await inTime(client.open(), 'open');
    await inTime(client.sendEvent(new Message('signed in with a certificate')), 'sendEvent');
    const events = await waitForDeviceEvents(tlsHub, deviceId, (found) => found.length > 0);
    expect(events.map((event) => event.bodyText)).toEqual(['signed in with a certificate']);
    expect(JSON.parse(events[0]!.systemProperties['iothub-connection-auth-method']!)).toMatchObject({ type: 'x509Certificate' });
    await inTime(client.close(), 'close');

    // Over AMQP an X.509 device proves nothing before its first link: the refusal comes on attach.
    const impostor = DeviceClient.fromConnectionString(x509String, Amqp);
    clients.push(impostor);
    await impostor.setOptions({ cert: wrong.certPem, key: wrong.keyPem, ca });
    const refused = await inTime(
      impostor.open().then(() => impostor.sendEvent(new Message('forged'))),
      'the impostor open and send',
    ).catch((caught: unknown) => caught);
    expect((refused as Error)?.constructor?.name).toBe('UnauthorizedError');
    expect((await waitForDeviceEvents(tlsHub, deviceId, () => false, 300)).map((event) => event.bodyText)).toEqual(['signed in with a certificate']);
  }, 30_000);
});
