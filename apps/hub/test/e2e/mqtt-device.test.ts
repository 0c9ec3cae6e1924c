/**
 * The MQTT device endpoint driven by the official device SDK (`azure-iot-device` with the `Mqtt`
 * and `MqttWs` transports) and the official service SDK, against a spawned hub on 8883 and 443
 * of a private loopback address, on each storage.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Client as DeviceClient, Message, ModuleClient } from 'azure-iot-device';
import { Mqtt, MqttWs } from 'azure-iot-device-mqtt';
import { Client as ServiceClient, Registry } from 'azure-iothub';
import { sasRecipes } from '@tributary/core';
import { createCaSignedDeviceCertificate, createSelfSignedDeviceCertificate, createTestCertificateAuthority } from '../support/device-certificates.ts';
import { sendCloudToDevice, serviceToken, waitForDeviceEvents } from '../support/service-calls.ts';
import { callback, createSasDevice, expiresIn, nextEvent } from '../support/sdk-calls.ts';
import { forEachStorage, sharedTestCa, spawnHub, type SpawnedHub } from './spawn-hub.ts';

type Transport = typeof Mqtt | typeof MqttWs;
const TRANSPORTS: [string, Transport][] = [
  ['Mqtt', Mqtt],
  ['MqttWs', MqttWs],
];

forEachStorage('MQTT device endpoint', (storage) => {
  let hub: SpawnedHub;
  let registry: Registry;
  let service: ServiceClient;
  let counter = 0;
  const clients: { close(): Promise<unknown> }[] = [];

  beforeAll(async () => {
    hub = await spawnHub({ storage });
    registry = Registry.fromConnectionString(hub.connectionString());
    service = ServiceClient.fromConnectionString(hub.connectionString());
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(clients.map((client) => client.close()));
    expect(await hub?.stop()).toBe(0);
  });

  const newDevice = (label: string) => createSasDevice(registry, hub.info.hostName, `${label}-${storage}-${++counter}`);

  /**
   * Opens a device client. The CA goes in through the SDK's own setOptions: under Bun the
   * WebSocket client does not see CAs added with tls.setDefaultCACertificates.
   */
  async function open<T extends DeviceClient | ModuleClient>(client: T): Promise<T> {
    clients.push(client);
    await client.setOptions({ ca: (await sharedTestCa()).certPem });
    await client.open();
    return client;
  }

  const connect = (connectionString: string, Transport: Transport) => open(DeviceClient.fromConnectionString(connectionString, Transport));

  for (const [name, Transport] of TRANSPORTS) {
    describe(`over ${name}`, () => {
      test('telemetry with properties lands in the event stream with every system property', async () => {
        const { deviceId, connectionString } = await newDevice('telemetry');
        const client = await connect(connectionString, Transport);
        const message = new Message(JSON.stringify({ temperature: 21.5 }));
        message.messageId = 'm-1';
        message.correlationId = 'c-1';
        message.contentType = 'application/json';
        message.contentEncoding = 'utf-8';
        message.properties.add('temp alert', 'a&b=c/d');
        await client.sendEvent(message);
        const events = await waitForDeviceEvents(hub, deviceId, (found) => found.length > 0);
        expect(events).toHaveLength(1);
        const [event] = events;
        expect(event!.bodyText).toBe('{"temperature":21.5}');
        expect(event!.properties).toEqual({ 'temp alert': 'a&b=c/d' });
        expect(event!.systemProperties).toMatchObject({
          'message-id': 'm-1',
          'correlation-id': 'c-1',
          'content-type': 'application/json',
          'content-encoding': 'utf-8',
          'iothub-connection-device-id': deviceId,
          'iothub-message-source': 'Telemetry',
        });
        expect(JSON.parse(event!.systemProperties['iothub-connection-auth-method']!)).toMatchObject({ scope: 'device', type: 'sas' });
        expect(Date.parse(event!.systemProperties['iothub-enqueuedtime']!)).toBeGreaterThan(Date.now() - 60_000);
      }, 30_000);

      test('a cloud-to-device message with properties is received and completed', async () => {
        const { deviceId, connectionString } = await newDevice('c2d');
        const client = await connect(connectionString, Transport);
        const received = nextEvent<Message>((done) => client.on('message', done));
        await new Promise((resolve) => setTimeout(resolve, 200)); // the SDK subscribes on the first listener
        const sent = await sendCloudToDevice(hub, deviceId, 'open the valve', {
          'iothub-messageid': 'cmd-1',
          'iothub-correlationid': 'corr-1',
          'iothub-app-path': 'a/b/c',
          'iothub-app-mode': 'fast',
        });
        expect(sent.status).toBeLessThan(300);
        const message = await received;
        expect(message.data.toString()).toBe('open the valve');
        expect(message.messageId).toBe('cmd-1');
        expect(message.correlationId).toBe('corr-1');
        expect(message.properties.getValue('path')).toBe('a/b/c');
        expect(message.properties.getValue('mode')).toBe('fast');
        await client.complete(message);
        // Completion reaches the hub as the PUBACK the transport already sent; the queue drains.
        const queued = async () => Number((await registry.get(deviceId)).responseBody.cloudToDeviceMessageCount);
        for (let i = 0; i < 50 && (await queued()) !== 0; i++) await Bun.sleep(20);
        expect(await queued()).toBe(0);
      }, 30_000);

      test('twin: get, update reported, and receive desired patches, including one sent while offline', async () => {
        const { deviceId, connectionString } = await newDevice('twin');
        let client = await connect(connectionString, Transport);
        let twin = await client.getTwin();
        expect(twin.properties.desired.$version).toBe(1);
        await callback((done) => twin.properties.reported.update({ firmware: '1.0', nested: { a: 1, b: 2 } }, done));
        await callback((done) => twin.properties.reported.update({ nested: { b: null } }, done));
        const serviceTwin = (await registry.getTwin(deviceId)).responseBody;
        expect(serviceTwin.properties.reported).toMatchObject({ firmware: '1.0', nested: { a: 1 } });
        expect(serviceTwin.properties.reported.nested.b).toBeUndefined();

        const patched = nextEvent<Record<string, unknown>>((done) =>
          twin.on('properties.desired', (delta: Record<string, unknown>) => {
            if (delta.interval === 5) done(delta);
          }),
        );
        await new Promise((resolve) => setTimeout(resolve, 200));
        await registry.updateTwin(deviceId, { properties: { desired: { interval: 5 } } }, '*');
        expect((await patched).interval).toBe(5);

        await client.close();
        await registry.updateTwin(deviceId, { properties: { desired: { interval: 9 } } }, '*');
        client = await connect(connectionString, Transport);
        twin = await client.getTwin();
        expect(twin.properties.desired.interval).toBe(9);
      }, 30_000);

      test('direct methods round-trip the payloads null, "", "foo", {} and {"k1":"v1"}', async () => {
        const { deviceId, connectionString } = await newDevice('methods');
        const client = await connect(connectionString, Transport);
        client.onDeviceMethod('echo', (request, response) => {
          void response.send(200, request.payload);
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
        for (const payload of [null, '', 'foo', {}, { k1: 'v1' }]) {
          const { result } = await service.invokeDeviceMethod(deviceId, { methodName: 'echo', payload, responseTimeoutInSeconds: 10 });
          expect(result).toEqual({ status: 200, payload });
        }
      }, 30_000);

      test('C2D, methods and the twin keep working after the SAS token is renewed', async () => {
        const { deviceId, key } = await newDevice('renewal');
        // As Azure's e2e tests do: only a client created from a token is renewed by the caller.
        const client = await open(
          DeviceClient.fromSharedAccessSignature(sasRecipes.device(hub.info.hostName, deviceId, key, expiresIn(3600)), Transport),
        );
        const twin = await client.getTwin();
        client.onDeviceMethod('ping', (_request, response) => void response.send(200, 'pong'));
        const messages: Message[] = [];
        client.on('message', (message: Message) => {
          messages.push(message);
          void client.complete(message);
        });
        await new Promise((resolve) => setTimeout(resolve, 300));

        const renewed = sasRecipes.device(hub.info.hostName, deviceId, key, expiresIn(7200));
        await callback<unknown>((done) => client.updateSharedAccessSignature(renewed, (error) => done(error)));

        const { result } = await service.invokeDeviceMethod(deviceId, { methodName: 'ping', payload: null, responseTimeoutInSeconds: 10 });
        expect(result).toEqual({ status: 200, payload: 'pong' });
        expect((await sendCloudToDevice(hub, deviceId, 'after renewal')).status).toBeLessThan(300);
        for (let i = 0; i < 100 && messages.length === 0; i++) await Bun.sleep(50);
        expect(messages.map((message) => message.data.toString())).toEqual(['after renewal']);
        await callback((done) => twin.properties.reported.update({ renewed: true }, done));
        expect((await registry.getTwin(deviceId)).responseBody.properties.reported.renewed).toBe(true);
      }, 30_000);

      test('a module client sends telemetry and updates its twin', async () => {
        const { deviceId } = await newDevice('with-module');
        const { responseBody: module } = await registry.addModule({ deviceId, moduleId: 'sensor' });
        const key = module.authentication!.symmetricKey!.primaryKey!;
        const client = await open(
          ModuleClient.fromConnectionString(`HostName=${hub.info.hostName};DeviceId=${deviceId};ModuleId=sensor;SharedAccessKey=${key}`, Transport),
        );
        await client.sendEvent(new Message('from the module'));
        const events = await waitForDeviceEvents(hub, deviceId, (found) => found.length > 0);
        expect(events.map((event) => [event.moduleId, event.bodyText])).toEqual([['sensor', 'from the module']]);
        expect(events[0]!.systemProperties['iothub-connection-module-id']).toBe('sensor');
        const twin = await client.getTwin();
        await callback((done) => twin.properties.reported.update({ sampling: 'fast' }, done));
        expect((await registry.getModuleTwin(deviceId, 'sensor')).responseBody.properties.reported.sampling).toBe('fast');
      }, 30_000);
    });
  }

  test('a method on a device that is not connected fails with 404 DeviceNotOnline', async () => {
    const { deviceId } = await newDevice('offline');
    // azure-iothub 1.16.6 has no DeviceNotOnlineError class: a 404 other than DeviceNotFound is a plain Error.
    const error = (await service
      .invokeDeviceMethod(deviceId, { methodName: 'reboot', payload: null, responseTimeoutInSeconds: 5 })
      .catch((caught: unknown) => caught)) as { response?: { statusCode: number }; responseBody?: string };
    expect(error.response?.statusCode).toBe(404);
    expect(error.responseBody).toContain('ErrorCode:DeviceNotOnline');
  }, 30_000);

  test('an X.509 self-signed device connects and a device presenting another certificate is refused with UnauthorizedError', async () => {
    const deviceId = `x509-self-${storage}-${++counter}`;
    const good = await createSelfSignedDeviceCertificate(deviceId);
    const wrong = await createSelfSignedDeviceCertificate(deviceId);
    await registry.create({ deviceId, authentication: { x509Thumbprint: { primaryThumbprint: good.sha1Thumbprint } } } as never);
    const x509String = `HostName=${hub.info.hostName};DeviceId=${deviceId};x509=true`;

    const client = DeviceClient.fromConnectionString(x509String, Mqtt);
    clients.push(client);
    client.setOptions({ cert: good.certPem, key: good.keyPem });
    await client.open();
    await client.sendEvent(new Message('signed in with a certificate'));
    const events = await waitForDeviceEvents(hub, deviceId, (found) => found.length > 0);
    expect(JSON.parse(events[0]!.systemProperties['iothub-connection-auth-method']!)).toMatchObject({ type: 'x509Certificate' });
    await client.close();

    const impostor = DeviceClient.fromConnectionString(x509String, Mqtt);
    impostor.setOptions({ cert: wrong.certPem, key: wrong.keyPem });
    const refused = await impostor.open().catch((caught: unknown) => caught);
    expect((refused as Error).constructor.name).toBe('UnauthorizedError');
  }, 30_000);

  test('an X.509 device connects over MQTT-over-WebSocket with the certificate it presents to port 443', async () => {
    const deviceId = `x509-wss-${storage}-${++counter}`;
    const good = await createSelfSignedDeviceCertificate(deviceId);
    await registry.create({ deviceId, authentication: { x509Thumbprint: { primaryThumbprint: good.sha1Thumbprint } } } as never);
    const client = DeviceClient.fromConnectionString(`HostName=${hub.info.hostName};DeviceId=${deviceId};x509=true`, MqttWs);
    clients.push(client);
    await client.setOptions({ ca: (await sharedTestCa()).certPem, cert: good.certPem, key: good.keyPem });
    await client.open();
    await client.sendEvent(new Message('over a WebSocket'));
    const events = await waitForDeviceEvents(hub, deviceId, (found) => found.length > 0);
    expect(events[0]!.bodyText).toBe('over a WebSocket');
    expect(JSON.parse(events[0]!.systemProperties['iothub-connection-auth-method']!)).toMatchObject({ type: 'x509Certificate' });
  }, 30_000);

  test('an X.509 device whose certificate a registered CA issued connects', async () => {
    const ca = await createTestCertificateAuthority(`Test CA ${storage} ${++counter}`);
    const caName = `test-ca-${storage}-${counter}`;
    const registered = await hub.fetch(`/certificates/${caName}`, {
      method: 'PUT',
      headers: { authorization: serviceToken(hub), 'content-type': 'application/json' },
      body: JSON.stringify({ certificate: ca.certPem, isVerified: true }),
    });
    expect(registered.status).toBeLessThan(300);
    const deviceId = `x509-ca-${storage}-${counter}`;
    await registry.create({ deviceId, authentication: { type: 'certificateAuthority' } } as never);
    const leaf = await createCaSignedDeviceCertificate(ca, deviceId);
    const client = DeviceClient.fromConnectionString(`HostName=${hub.info.hostName};DeviceId=${deviceId};x509=true`, Mqtt);
    clients.push(client);
    client.setOptions({ cert: leaf.certPem, key: leaf.keyPem });
    await client.open();
    await client.sendEvent(new Message('issued by a CA'));
    const events = await waitForDeviceEvents(hub, deviceId, (found) => found.length > 0);
    expect(JSON.parse(events[0]!.systemProperties['iothub-connection-auth-method']!)).toMatchObject({ type: 'x509CA' });
  }, 30_000);
});
