/**
 * The service side of the AMQP endpoint driven by the official service SDK (`azure-iothub`
 * `Client`): cloud-to-device sends on `/messages/devicebound` to MQTT and AMQP devices, delivery
 * feedback on `/messages/serviceBound/feedback`, and the send errors the SDK decodes (digest §8).
 * The hub is reached as `localhost:<port>` because rhea puts the host in TLS SNI, which Bun
 * refuses for an IP literal; the test CA is trusted process-wide (sharedTestCa).
 */

import { afterAll, beforeAll, expect, test } from 'bun:test';
import { Client as DeviceClient, type Message as DeviceMessage } from 'azure-iot-device';
import { Amqp } from 'azure-iot-device-amqp';
import { Mqtt } from 'azure-iot-device-mqtt';
import { Client as ServiceClient } from 'azure-iothub';
import { Message } from 'azure-iothub/dist/common-core/message';
import { sasRecipes } from '@tributary/core';
import { createDeviceOverRest } from '../support/service-calls.ts';
import { serviceErrors } from './service-sdk-errors.ts';
import { failureOf, nextEvent } from '../support/sdk-calls.ts';
import { forEachStorage, LOCALHOST_HUB_ENV, sharedTestCa, spawnHub, type SpawnedHub } from './spawn-hub.ts';

type DeviceTransport = typeof Mqtt | typeof Amqp;

/** One record of a feedback batch body (IoT Hub's format, digest §8). */
interface FeedbackRecordJson {
  originalMessageId: string;
  deviceId: string;
  deviceGenerationId: string;
  statusCode: string;
  description: string;
  enqueuedTimeUtc: string;
}

forEachStorage('AMQP service client', (storage) => {
  let hub: SpawnedHub;
  let service: ServiceClient;
  let counter = 0;
  const clients: { close(): Promise<unknown> }[] = [];
  /** Every feedback record the service's feedback receiver got, in arrival order. */
  const feedback: FeedbackRecordJson[] = [];
  /** Content type and user_id of each feedback batch message. */
  const feedbackBatches: { contentType: string | undefined; userId: unknown }[] = [];

  /** A service connection string reaching the AMQP port (`Client` uses amqps://{HostName}). */
  const serviceConnectionString = (policy = 'iothubowner') =>
    hub.connectionString(policy).replace(/HostName=[^;]+/, `HostName=localhost:${hub.info.ports.amqps}`);

  beforeAll(async () => {
    await sharedTestCa();
    hub = await spawnHub({ storage, env: LOCALHOST_HUB_ENV });
    service = ServiceClient.fromConnectionString(serviceConnectionString());
    await service.open();
    const { result: receiver } = (await service.getFeedbackReceiver()) as unknown as {
      result: { on(event: 'message', listener: (message: { data: Buffer; contentType?: string; transportObj: { user_id?: unknown } }) => void): void };
    };
    receiver.on('message', (message) => {
      feedbackBatches.push({ contentType: message.contentType, userId: message.transportObj.user_id });
      feedback.push(...(JSON.parse(message.data.toString('utf8')) as FeedbackRecordJson[]));
    });
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([...clients, service].map((client) => Promise.race([client?.close(), Bun.sleep(2000)])));
    expect(await hub?.stop()).toBe(0);
  }, 30_000);

  /** Polls the collected feedback for the record of `messageId`. */
  async function feedbackFor(messageId: string, timeoutMs = 10_000): Promise<FeedbackRecordJson> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const record = feedback.find((candidate) => candidate.originalMessageId === messageId);
      if (record) return record;
      if (Date.now() > deadline) throw new Error(`no feedback for ${messageId}; got ${JSON.stringify(feedback)}`);
      await Bun.sleep(50);
    }
  }

  async function newDevice(label: string): Promise<{ deviceId: string; key: string }> {
    const deviceId = `${label}-${storage}-${++counter}`;
    return { deviceId, key: await createDeviceOverRest(hub, deviceId) };
  }

  async function connectDevice(label: string, Transport: DeviceTransport): Promise<{ deviceId: string; client: DeviceClient }> {
    const { deviceId, key } = await newDevice(label);
    const port = Transport === Amqp ? hub.info.ports.amqps : hub.info.ports.mqtts;
    const client = DeviceClient.fromConnectionString(`HostName=localhost:${port};DeviceId=${deviceId};SharedAccessKey=${key}`, Transport);
    clients.push(client);
    await client.setOptions({ ca: (await sharedTestCa()).certPem });
    await client.open();
    return { deviceId, client };
  }

  function c2dMessage(body: string, messageId: string): Message {
    const message = new Message(body);
    message.messageId = messageId;
    message.ack = 'full';
    message.properties.add('color', 'blue');
    return message;
  }

  const TRANSPORTS: [string, DeviceTransport][] = [
    ['Mqtt', Mqtt],
    ['Amqp', Amqp],
  ];
  for (const [name, Transport] of TRANSPORTS) {
    test(`a message sent to an ${name} device arrives with its properties and, once completed, earns Success feedback`, async () => {
      const { deviceId, client } = await connectDevice(`svc-c2d-${name.toLowerCase()}`, Transport);
      const received = nextEvent<DeviceMessage>((resolve) => client.on('message', resolve));
      await Bun.sleep(300); // the device's C2D subscription / link settles
      const messageId = `msg-${name}-${counter}`;
      await service.send(deviceId, c2dMessage('open the gate', messageId));
      const message = await received;
      expect(message.data.toString()).toBe('open the gate');
      expect(message.messageId).toBe(messageId);
      expect(message.properties.getValue('color')).toBe('blue');
      await client.complete(message);
      const record = await feedbackFor(messageId);
      expect(record).toMatchObject({ originalMessageId: messageId, deviceId, statusCode: 'Success' });
      expect(Number.isNaN(Date.parse(record.enqueuedTimeUtc))).toBe(false);
      // user_id is the hub name: the first label of HostName ('localhost' here), as AMQP binary.
      expect(feedbackBatches[0]!.contentType).toBe('application/vnd.microsoft.iothub.feedback.json');
      expect(Buffer.from(feedbackBatches[0]!.userId as Uint8Array).toString('utf8')).toBe('localhost');
    }, 30_000);
  }

  test('an AMQP device sees ack full on the message, and its reject earns Rejected feedback', async () => {
    const { deviceId, client } = await connectDevice('svc-c2d-reject', Amqp);
    const received = nextEvent<DeviceMessage>((resolve) => client.on('message', resolve));
    await Bun.sleep(300);
    const messageId = `msg-reject-${counter}`;
    await service.send(deviceId, c2dMessage('not for me', messageId));
    const message = await received;
    expect(message.ack).toBe('full');
    await client.reject(message);
    expect(await feedbackFor(messageId)).toMatchObject({ originalMessageId: messageId, deviceId, statusCode: 'Rejected' });
  }, 30_000);

  test('the 51st queued message fails with DeviceMaximumQueueDepthExceededError', async () => {
    const { deviceId } = await newDevice('svc-c2d-full');
    for (let i = 0; i < 50; i++) await service.send(deviceId, new Message(`m${i}`));
    const error = await failureOf(service.send(deviceId, new Message('one too many')));
    expect(error).toBeInstanceOf(serviceErrors.DeviceMaximumQueueDepthExceededError);
  }, 30_000);

  test('a message to an unknown device fails with DeviceNotFoundError', async () => {
    const error = await failureOf(service.send(`nobody-${storage}`, new Message('hello?')));
    expect(error).toBeInstanceOf(serviceErrors.DeviceNotFoundError);
  }, 30_000);

  test('a registryRead connection string cannot send cloud-to-device messages', async () => {
    const { deviceId } = await newDevice('svc-c2d-read-only');
    const readOnly = ServiceClient.fromConnectionString(serviceConnectionString('registryRead'));
    clients.push(readOnly);
    const error = await failureOf(readOnly.send(deviceId, new Message('let me in')));
    expect(error).toBeInstanceOf(serviceErrors.UnauthorizedError);
  }, 30_000);
});

forEachStorage('file notifications over AMQP', (storage) => {
  let hub: SpawnedHub;
  let service: ServiceClient;

  beforeAll(async () => {
    hub = await spawnHub({ storage, env: LOCALHOST_HUB_ENV });
    const owner = hub.connectionString('iothubowner').replace(/HostName=[^;]+/, `HostName=localhost:${hub.info.ports.amqps}`);
    service = ServiceClient.fromConnectionString(owner);
    await service.open();
  }, 60_000);
  afterAll(async () => {
    await Promise.race([service?.close(), Bun.sleep(2000)]);
    expect(await hub?.stop()).toBe(0);
  }, 30_000);

  test("an upload a device completes reaches the service's file notification receiver", async () => {
    const { result: receiver } = (await service.getFileNotificationReceiver()) as unknown as {
      result: { on(event: 'message', listener: (message: { data: Buffer }) => void): void };
    };
    const notifications: Record<string, unknown>[] = [];
    receiver.on('message', (message) => notifications.push(JSON.parse(message.data.toString('utf8'))));

    // The device side of an upload, over the HTTPS device API and the built-in blob storage.
    const deviceId = `uploader-${storage}`;
    const key = await createDeviceOverRest(hub, deviceId);
    const authorization = sasRecipes.device(hub.info.hostName, deviceId, key, Math.floor(Date.now() / 1000) + 3600);
    const initiated = (await (
      await hub.fetch(`/devices/${deviceId}/files`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ blobName: 'notes.txt' }),
      })
    ).json()) as { correlationId: string; containerName: string; blobName: string; sasToken: string };
    const put = await hub.fetch(`/${initiated.containerName}/${initiated.blobName}${initiated.sasToken}`, {
      method: 'PUT',
      headers: { 'x-ms-blob-type': 'BlockBlob', 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(put.status).toBe(201);
    const completed = await hub.fetch(`/devices/${deviceId}/files/notifications/${encodeURIComponent(initiated.correlationId)}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ isSuccess: true, statusCode: 201, statusDescription: 'uploaded' }),
    });
    expect(completed.status).toBe(204);

    for (let i = 0; i < 100 && notifications.length === 0; i++) await Bun.sleep(50);
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({ deviceId, blobName: `${deviceId}/notes.txt`, blobSizeInBytes: 5 });
    expect(typeof notifications[0]!.blobUri).toBe('string');
  }, 30_000);
});
