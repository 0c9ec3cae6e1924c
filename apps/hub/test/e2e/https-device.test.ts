/**
 * The HTTPS device API driven by the official device SDK's `Http` transport (azure-iot-device +
 * azure-iot-device-http) against a spawned hub on 443 of a private loopback address, on each
 * storage: single and batch telemetry with properties in the event stream, C2D receive with
 * complete / reject / abandon (the transport polls every second), X.509 devices authenticated by
 * their TLS client certificate, refused credentials, and bad
 * input sent raw (a malformed batch element, a 300 KB event) storing nothing. Digest §6, §1.3.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Client as DeviceClient, Message } from 'azure-iot-device';
import { Http } from 'azure-iot-device-http';
import { Registry } from 'azure-iothub';
import { sasRecipes } from '@tributary/core';
import { peekCloudToDevice, readDeviceEvents, sendCloudToDevice, serviceToken, waitForDeviceEvents } from '../support/service-calls.ts';
import { createSelfSignedDeviceCertificate } from '../support/device-certificates.ts';
import { createSasDevice, failureOf, nextEvent } from '../support/sdk-calls.ts';
import { forEachStorage, sharedTestCa, spawnHub, type SpawnedHub } from './spawn-hub.ts';

const API = 'api-version=2021-04-12';

forEachStorage('HTTPS device endpoint', (storage) => {
  let hub: SpawnedHub;
  let registry: Registry;
  let counter = 0;
  const clients: DeviceClient[] = [];

  beforeAll(async () => {
    hub = await spawnHub({ storage });
    registry = Registry.fromConnectionString(hub.connectionString());
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(clients.map((client) => client.close()));
    expect(await hub?.stop()).toBe(0);
  });

  const newDevice = (label: string) => createSasDevice(registry, hub.info.hostName, `${label}-${storage}-${++counter}`);

  /**
   * A device client over Http. The transport's setOptions only calls back when the options hold
   * `http.receivePolicy` (digest §1.3), so the CA goes in together with a 1 s polling interval.
   */
  async function connect(connectionString: string, certificate?: { cert: string; key: string }): Promise<DeviceClient> {
    const client = DeviceClient.fromConnectionString(connectionString, Http);
    clients.push(client);
    await client.setOptions({ ca: (await sharedTestCa()).certPem, http: { receivePolicy: { interval: 1 } }, ...certificate });
    await client.open();
    return client;
  }

  const deviceToken = (deviceId: string, key: string) =>
    sasRecipes.device(hub.info.hostName, deviceId, key, Math.floor(Date.now() / 1000) + 3600);

  /** Polls the device's queue until it is empty (settlement is a round trip of its own). */
  async function expectQueueDrained(deviceId: string): Promise<void> {
    for (let i = 0; i < 50 && (await peekCloudToDevice(hub, deviceId)).length > 0; i++) await Bun.sleep(20);
    expect(await peekCloudToDevice(hub, deviceId)).toEqual([]);
  }

  test('a single event with properties lands in the event stream with its system properties', async () => {
    const { deviceId, connectionString } = await newDevice('event');
    const client = await connect(connectionString);
    const message = new Message(JSON.stringify({ temperature: 21.5 }));
    message.messageId = 'm-1';
    message.correlationId = 'c-1';
    message.contentType = 'application/json';
    message.contentEncoding = 'utf-8';
    message.properties.add('alert', 'yes');
    message.properties.add('dt-subject', 'thermostat1');
    await client.sendEvent(message);
    const events = await waitForDeviceEvents(hub, deviceId, (found) => found.length > 0);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event!.bodyText).toBe('{"temperature":21.5}');
    expect(event!.properties).toEqual({ alert: 'yes' });
    expect(event!.systemProperties).toMatchObject({
      'message-id': 'm-1',
      'correlation-id': 'c-1',
      'content-type': 'application/json',
      'content-encoding': 'utf-8',
      'dt-subject': 'thermostat1',
      'iothub-connection-device-id': deviceId,
      'iothub-message-source': 'Telemetry',
    });
    expect(JSON.parse(event!.systemProperties['iothub-connection-auth-method']!)).toMatchObject({ scope: 'device', type: 'sas' });
  }, 30_000);

  test('a batch lands whole in the event stream, in order, each message with its properties', async () => {
    const { deviceId, connectionString } = await newDevice('batch');
    const client = await connect(connectionString);
    const messages = ['one', 'two', 'three'].map((text, index) => {
      const message = new Message(text);
      message.properties.add('index', String(index));
      if (index !== 1) message.properties.add('kind', 'reading');
      return message;
    });
    await client.sendEventBatch(messages);
    const events = await waitForDeviceEvents(hub, deviceId, (found) => found.length >= 3);
    expect(events.map((event) => event.bodyText)).toEqual(['one', 'two', 'three']);
    expect(events.map((event) => event.properties)).toEqual([
      { index: '0', kind: 'reading' },
      { index: '1' },
      { index: '2', kind: 'reading' },
    ]);
  }, 30_000);

  test('a cloud-to-device message is received by polling, with its properties, and completed', async () => {
    const { deviceId, connectionString } = await newDevice('c2d-complete');
    const client = await connect(connectionString);
    const sent = await sendCloudToDevice(hub, deviceId, 'open the valve', {
      'iothub-messageid': 'cmd-1',
      'iothub-correlationid': 'corr-1',
      'iothub-app-mode': 'fast',
    });
    expect(sent.status).toBe(204);
    const message = await nextEvent<Message>((done) => client.on('message', done));
    expect(message.data.toString()).toBe('open the valve');
    expect(message.messageId).toBe('cmd-1');
    expect(message.correlationId).toBe('corr-1');
    expect(message.to).toBe(`/devices/${deviceId}/messages/deviceBound`);
    expect(message.lockToken).toMatch(/^[0-9a-f-]{36}$/);
    // The Http transport keeps the header name, prefix included, as the property name.
    expect(message.properties.getValue('iothub-app-mode')).toBe('fast');
    await client.complete(message);
    await expectQueueDrained(deviceId);
  }, 30_000);

  test('a rejected cloud-to-device message leaves the queue', async () => {
    const { deviceId, connectionString } = await newDevice('c2d-reject');
    const client = await connect(connectionString);
    await sendCloudToDevice(hub, deviceId, 'bad command');
    const message = await nextEvent<Message>((done) => client.on('message', done));
    await client.reject(message);
    await expectQueueDrained(deviceId);
  }, 30_000);

  test('an abandoned cloud-to-device message is delivered again, then completed', async () => {
    const { deviceId, connectionString } = await newDevice('c2d-abandon');
    const client = await connect(connectionString);
    await sendCloudToDevice(hub, deviceId, 'retry me', { 'iothub-messageid': 'cmd-retry' });
    const deliveries: Message[] = [];
    const redelivered = nextEvent<Message>((done) =>
      client.on('message', (message: Message) => {
        deliveries.push(message);
        if (deliveries.length === 1) void client.abandon(message);
        else done(message);
      }),
    );
    const again = await redelivered;
    expect(again.messageId).toBe('cmd-retry');
    expect(again.data.toString()).toBe('retry me');
    expect(again.lockToken).not.toBe(deliveries[0]!.lockToken);
    const [queued] = await peekCloudToDevice(hub, deviceId);
    expect(queued!.deliveryCount).toBe(2);
    await client.complete(again);
    await expectQueueDrained(deviceId);
  }, 30_000);

  test('a device with a wrong key is refused with UnauthorizedError', async () => {
    const { deviceId } = await newDevice('wrong-key');
    const wrongKey = Buffer.alloc(32, 7).toString('base64');
    const client = await connect(`HostName=${hub.info.hostName};DeviceId=${deviceId};SharedAccessKey=${wrongKey}`);
    const error = await failureOf(client.sendEvent(new Message('x')));
    expect(error.constructor.name).toBe('UnauthorizedError');
    expect(await readDeviceEvents(hub, deviceId)).toEqual([]);
  }, 30_000);

  test('a disabled device is refused with UnauthorizedError', async () => {
    const { deviceId, connectionString } = await newDevice('disabled');
    const disabled = await hub.fetch(`/devices/${encodeURIComponent(deviceId)}`, {
      method: 'PUT',
      headers: { authorization: serviceToken(hub), 'content-type': 'application/json', 'if-match': '*' },
      body: JSON.stringify({ deviceId, status: 'disabled' }),
    });
    expect(disabled.status).toBe(200);
    const client = await connect(connectionString);
    const error = await failureOf(client.sendEvent(new Message('x')));
    expect(error.constructor.name).toBe('UnauthorizedError');
    expect(await readDeviceEvents(hub, deviceId)).toEqual([]);
  }, 30_000);

  test('an X.509 device sends and receives with the certificate it presents in the TLS handshake; another certificate is refused', async () => {
    const deviceId = `x509-https-${storage}-${++counter}`;
    const good = await createSelfSignedDeviceCertificate(deviceId);
    const wrong = await createSelfSignedDeviceCertificate(deviceId);
    await registry.create({ deviceId, authentication: { x509Thumbprint: { primaryThumbprint: good.sha1Thumbprint } } } as never);
    const x509String = `HostName=${hub.info.hostName};DeviceId=${deviceId};x509=true`;

    const client = await connect(x509String, { cert: good.certPem, key: good.keyPem });
    await client.sendEvent(new Message('signed in with a certificate'));
    const events = await waitForDeviceEvents(hub, deviceId, (found) => found.length > 0);
    expect(events.map((event) => event.bodyText)).toEqual(['signed in with a certificate']);
    expect(JSON.parse(events[0]!.systemProperties['iothub-connection-auth-method']!)).toMatchObject({ type: 'x509Certificate' });
    await sendCloudToDevice(hub, deviceId, 'for the certificate holder');
    const received = await nextEvent<Message>((done) => client.on('message', done));
    expect(received.data.toString()).toBe('for the certificate holder');
    await client.complete(received);

    const impostor = await connect(x509String, { cert: wrong.certPem, key: wrong.keyPem });
    expect((await failureOf(impostor.sendEvent(new Message('not mine')))).constructor.name).toBe('UnauthorizedError');
    const other = await newDevice('x509-other');
    // A certificate proves only the device it was registered for.
    const borrowed = await connect(`HostName=${hub.info.hostName};DeviceId=${other.deviceId};x509=true`, { cert: good.certPem, key: good.keyPem });
    expect((await failureOf(borrowed.sendEvent(new Message('not mine either')))).constructor.name).toBe('UnauthorizedError');
    expect((await readDeviceEvents(hub, deviceId)).length).toBe(1);
    expect(await readDeviceEvents(hub, other.deviceId)).toEqual([]);
  }, 30_000);

  describe('bad input sent raw', () => {
    test('a batch with one malformed element is refused with 400 ArgumentInvalid and none of it is stored', async () => {
      const { deviceId, key } = await newDevice('bad-batch');
      const good = Buffer.from('fine').toString('base64');
      const response = await hub.fetch(`/devices/${encodeURIComponent(deviceId)}/messages/events?${API}`, {
        method: 'POST',
        headers: { authorization: deviceToken(deviceId, key), 'content-type': 'application/vnd.microsoft.iothub.json' },
        body: `[{"body":"${good}","properties":{"iothub-app-k":"v"}},{"body":"not base64!"},{"body":"${good}"}]`,
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('iothub-errorcode')).toBe('ArgumentInvalid');
      expect(((await response.json()) as { Message: string }).Message).toMatch(/^ErrorCode:ArgumentInvalid;Message 1 /);
      expect(await readDeviceEvents(hub, deviceId)).toEqual([]);
    }, 30_000);

    test('a 300 KB event is refused with 413 MessageTooLarge and not stored', async () => {
      const { deviceId, key } = await newDevice('big-event');
      const response = await hub.fetch(`/devices/${encodeURIComponent(deviceId)}/messages/events?${API}`, {
        method: 'POST',
        headers: { authorization: deviceToken(deviceId, key) },
        body: new Uint8Array(300 * 1024).fill(0x61),
      });
      expect(response.status).toBe(413);
      expect(response.headers.get('iothub-errorcode')).toBe('MessageTooLarge');
      expect(await readDeviceEvents(hub, deviceId)).toEqual([]);
    }, 30_000);
  });
});
