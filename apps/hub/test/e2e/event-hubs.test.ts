/**
 * The built-in Event Hub-compatible endpoint driven by @azure/event-hubs' EventHubConsumerClient
 * (wire digest §9): runtime properties over `$management`, events that MQTT and AMQP devices sent
 * read from their partition with properties and system properties intact, resuming from a stored
 * position, starting at the latest event, consumer groups created over REST, a wrong key, and
 * the plain-TCP `UseDevelopmentEmulator=true` connection string. The hub is reached as
 * `localhost:<port>` because rhea puts the host in TLS SNI, which Bun refuses for an IP literal.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test';
import {
  earliestEventPosition,
  EventHubConsumerClient,
  latestEventPosition,
  type EventPosition,
  type ReceivedEventData,
} from '@azure/event-hubs';
import { partitionFor } from '@tributary/core';
import { Client as DeviceClient, Message } from 'azure-iot-device';
import { Amqp } from 'azure-iot-device-amqp';
import { Http } from 'azure-iot-device-http';
import https from 'node:https';
import { Mqtt } from 'azure-iot-device-mqtt';
import rhea from 'rhea';
import { createDeviceOverRest, serviceToken } from '../support/service-calls.ts';
import { forEachStorage, LOCALHOST_HUB_ENV, sharedTestCa, spawnHub, type SpawnedHub } from './spawn-hub.ts';

const PARTITION_COUNT = 4;
const DEVICE_ID_PROPERTY = 'iothub-connection-device-id';

/** Retries off, so a refusal surfaces at once instead of after the SDK's backoff. */
const CLIENT_OPTIONS = { retryOptions: { maxRetries: 0, timeoutInMs: 15_000 } };

forEachStorage('Event Hub-compatible endpoint', (storage) => {
  let hub: SpawnedHub;
  let counter = 0;
  const closers: { close(): Promise<unknown> }[] = [];

  beforeAll(async () => {
    await sharedTestCa();
    hub = await spawnHub({ storage, env: { ...LOCALHOST_HUB_ENV, HUB_AMQP_PORT: '0' } });
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(closers.map((client) => Promise.race([client.close(), Bun.sleep(2000)])));
    expect(await hub?.stop()).toBe(0);
  }, 30_000);

  function consumer(consumerGroup = '$Default', connectionString = hub.info.eventHubCompatible.connectionString): EventHubConsumerClient {
    const client = new EventHubConsumerClient(consumerGroup, connectionString, CLIENT_OPTIONS);
    closers.push(client);
    return client;
  }

  async function connectDevice(
    label: string,
    Transport: typeof Mqtt | typeof Amqp | typeof Http,
  ): Promise<{ deviceId: string; partitionId: string; client: DeviceClient }> {
    const deviceId = `eh-${label}-${storage}-${++counter}`;
    const key = await createDeviceOverRest(hub, deviceId);
    const ca = (await sharedTestCa()).certPem;
    if (Transport === Http) {
      // The Http transport puts HostName in the request host, so it cannot carry a port; its
      // documented escape hatch is an https.Agent whose port overrides the request's (digest §1.2).
      const client = DeviceClient.fromConnectionString(`HostName=localhost;DeviceId=${deviceId};SharedAccessKey=${key}`, Http);
      closers.push(client);
      await client.setOptions({ ca, http: { agent: new https.Agent({ port: hub.info.ports.https, ca }), receivePolicy: { interval: 1 } } } as never);
      await client.open();
      return { deviceId, partitionId: String(partitionFor(deviceId, PARTITION_COUNT)), client };
    }
    const port = Transport === Amqp ? hub.info.ports.amqps : hub.info.ports.mqtts;
    const client = DeviceClient.fromConnectionString(`HostName=localhost:${port};DeviceId=${deviceId};SharedAccessKey=${key}`, Transport);
    closers.push(client);
    await client.setOptions({ ca });
    await client.open();
    return { deviceId, partitionId: String(partitionFor(deviceId, PARTITION_COUNT)), client };
  }

  function telemetry(body: string | Buffer, messageId: string, properties: Record<string, string> = {}): Message {
    const message = new Message(body);
    message.messageId = messageId;
    for (const [key, value] of Object.entries(properties)) message.properties.add(key, value);
    return message;
  }

  /**
   * Subscribes to one partition and collects what arrives until `isDone` holds (or `timeoutMs`
   * passes), then closes the subscription. `afterSubscribe` runs while it is open.
   */
  async function receive(
    client: EventHubConsumerClient,
    partitionId: string,
    startPosition: EventPosition,
    isDone: (events: ReceivedEventData[]) => boolean,
    options: { timeoutMs?: number; afterSubscribe?: (events: ReceivedEventData[]) => Promise<void> } = {},
  ): Promise<{ events: ReceivedEventData[]; errors: Error[] }> {
    const events: ReceivedEventData[] = [];
    const errors: Error[] = [];
    const subscription = client.subscribe(
      partitionId,
      {
        processEvents: async (batch) => void events.push(...batch),
        processError: async (error) => void errors.push(error),
      },
      { startPosition, maxBatchSize: 100, maxWaitTimeInSeconds: 1 },
    );
    try {
      await options.afterSubscribe?.(events);
      const deadline = Date.now() + (options.timeoutMs ?? 15_000);
      while (!isDone(events) && errors.length === 0 && Date.now() < deadline) await Bun.sleep(25);
    } finally {
      await subscription.close();
    }
    return { events, errors };
  }

  const fromDevice = (deviceId: string) => (event: ReceivedEventData) => event.systemProperties?.[DEVICE_ID_PROPERTY] === deviceId;

  test('hub and partition properties are read over $management', async () => {
    const client = consumer();
    const properties = await client.getEventHubProperties();
    expect(properties.name).toBe(hub.info.eventHubCompatible.name);
    expect(properties.partitionIds).toEqual(['0', '1', '2', '3']);
    expect(properties.createdOn).toBeInstanceOf(Date);
    expect(await client.getPartitionIds()).toEqual(['0', '1', '2', '3']);

    const { deviceId, partitionId, client: device } = await connectDevice('props', Mqtt);
    await device.sendEvent(telemetry('{"n":1}', `${deviceId}-1`));
    const partition = await client.getPartitionProperties(partitionId);
    expect(partition.partitionId).toBe(partitionId);
    expect(partition.eventHubName).toBe(hub.info.eventHubCompatible.name);
    expect(partition.isEmpty).toBe(false);
    expect(partition.lastEnqueuedSequenceNumber).toBeGreaterThanOrEqual(0);
    expect(partition.lastEnqueuedOnUtc.getTime()).toBeGreaterThan(Date.now() - 60_000);
  }, 30_000);

  test('events that MQTT, AMQP and HTTPS devices sent arrive with body, properties and system properties intact', async () => {
    const before = Date.now();
    const sent: { deviceId: string; partitionId: string; transport: string }[] = [];
    for (const [transport, Transport] of [
      ['mqtt', Mqtt],
      ['amqp', Amqp],
      ['https', Http],
    ] as const) {
      const { deviceId, partitionId, client } = await connectDevice(transport, Transport);
      await client.sendEvent(telemetry(JSON.stringify({ temperature: 21, transport }), `${deviceId}-json`, { zone: 'north', transport }));
      await client.sendEvent(telemetry(Buffer.from([0, 1, 2, 250]), `${deviceId}-bytes`));
      sent.push({ deviceId, partitionId, transport });
    }
    const client = consumer();
    for (const { deviceId, partitionId, transport } of sent) {
      const { events, errors } = await receive(client, partitionId, earliestEventPosition, (all) => all.filter(fromDevice(deviceId)).length >= 2);
      expect(errors).toEqual([]);
      const [json, bytes] = events.filter(fromDevice(deviceId));
      expect(json!.body).toEqual({ temperature: 21, transport });
      expect(json!.properties).toEqual({ zone: 'north', transport });
      expect(json!.messageId).toBe(`${deviceId}-json`);
      expect(json!.systemProperties).toMatchObject({ [DEVICE_ID_PROPERTY]: deviceId, 'iothub-message-source': 'Telemetry' });
      expect(json!.enqueuedTimeUtc.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(json!.enqueuedTimeUtc.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      expect(Buffer.from(bytes!.body as Uint8Array)).toEqual(Buffer.from([0, 1, 2, 250]));
      expect(bytes!.messageId).toBe(`${deviceId}-bytes`);
      expect(bytes!.sequenceNumber).toBeGreaterThan(json!.sequenceNumber);
    }
  }, 60_000);

  test('a stored sequence number or offset resumes after it without re-delivering earlier events', async () => {
    const { deviceId, partitionId, client: device } = await connectDevice('resume', Mqtt);
    for (let i = 0; i < 5; i += 1) await device.sendEvent(telemetry(`{"i":${i}}`, `${deviceId}-${i}`));
    const client = consumer();
    const first = await receive(client, partitionId, earliestEventPosition, (all) => all.filter(fromDevice(deviceId)).length >= 5);
    const stored = first.events.filter(fromDevice(deviceId))[2]!;

    for (const position of [{ sequenceNumber: stored.sequenceNumber }, { offset: stored.offset }]) {
      const { events, errors } = await receive(client, partitionId, position, (all) => all.filter(fromDevice(deviceId)).length >= 2);
      expect(errors).toEqual([]);
      expect(events.every((event) => event.sequenceNumber > stored.sequenceNumber)).toBe(true);
      expect(events.filter(fromDevice(deviceId)).map((event) => event.body)).toEqual([{ i: 3 }, { i: 4 }]);
    }
    const inclusive = await receive(client, partitionId, { sequenceNumber: stored.sequenceNumber, isInclusive: true }, (all) => all.length >= 1);
    expect(inclusive.events[0]!.sequenceNumber).toBe(stored.sequenceNumber);
  }, 60_000);

  test('starting at the latest event receives only events sent after subscribing', async () => {
    const { deviceId, partitionId, client: device } = await connectDevice('latest', Amqp);
    await device.sendEvent(telemetry('{"when":"before"}', `${deviceId}-before`));
    // The receiver attaches some time after subscribe(): send until the first event gets through.
    const { events, errors } = await receive(consumer(), partitionId, latestEventPosition, (all) => all.some(fromDevice(deviceId)), {
      afterSubscribe: async (received) => {
        for (let i = 0; i < 100 && !received.some(fromDevice(deviceId)); i += 1) {
          await device.sendEvent(telemetry(`{"when":"after","i":${i}}`, `${deviceId}-after-${i}`));
          await Bun.sleep(100);
        }
      },
    });
    expect(errors).toEqual([]);
    const mine = events.filter(fromDevice(deviceId));
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((event) => (event.body as { when: string }).when === 'after')).toBe(true);
  }, 60_000);

  test('a consumer group created over REST can read and an unknown one is refused', async () => {
    const created = await hub.fetch('/events/consumerGroups/analytics', { method: 'PUT', headers: { authorization: serviceToken(hub) } });
    expect(created.status).toBe(201);
    const { deviceId, partitionId, client: device } = await connectDevice('group', Mqtt);
    await device.sendEvent(telemetry('{"group":true}', `${deviceId}-1`));

    const analytics = await receive(consumer('analytics'), partitionId, earliestEventPosition, (all) => all.some(fromDevice(deviceId)));
    expect(analytics.errors).toEqual([]);
    expect(analytics.events.filter(fromDevice(deviceId)).map((event) => event.body)).toEqual([{ group: true }]);

    const unknown = await receive(consumer('no-such-group'), partitionId, earliestEventPosition, () => false, { timeoutMs: 10_000 });
    expect(unknown.events).toEqual([]);
    expect(unknown.errors[0]).toMatchObject({ code: 'MessagingEntityNotFoundError' });
  }, 60_000);

  test('a connection string with a wrong key is refused', async () => {
    const wrongKey = hub.info.eventHubCompatible.connectionString.replace(/SharedAccessKey=[^;]+/, `SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`);
    const client = consumer('$Default', wrongKey);
    const error = await client.getEventHubProperties().then(
      () => undefined,
      (refusal: Error) => refusal,
    );
    expect(error).toMatchObject({ code: 'UnauthorizedError' });
    const { events, errors } = await receive(client, '0', earliestEventPosition, () => false, { timeoutMs: 10_000 });
    expect(events).toEqual([]);
    expect(errors[0]).toMatchObject({ code: 'UnauthorizedError' });
  }, 60_000);

  test('the development emulator connection string (plain AMQP) reads events', async () => {
    const connectionString = hub.info.eventHubCompatible.developmentEmulatorConnectionString;
    expect(connectionString).toContain('UseDevelopmentEmulator=true');
    const { deviceId, partitionId, client: device } = await connectDevice('emulator', Mqtt);
    await device.sendEvent(telemetry('{"plain":true}', `${deviceId}-1`));
    const client = consumer('$Default', connectionString!);
    expect((await client.getEventHubProperties()).partitionIds).toHaveLength(PARTITION_COUNT);
    const { events, errors } = await receive(client, partitionId, earliestEventPosition, (all) => all.some(fromDevice(deviceId)));
    expect(errors).toEqual([]);
    expect(events.filter(fromDevice(deviceId)).map((event) => event.body)).toEqual([{ plain: true }]);
  }, 60_000);

  test('an idle connection that asked for an idle timeout is kept alive with empty frames', async () => {
    // The Event Hubs SDK advertises idle-time-out 60 s; rhea answers a remote's idle timeout by
    // itself, sending an empty frame every half period. A short one shows it without waiting.
    const container = rhea.create_container({ id: 'idle-probe' });
    const connection = container.connect({ host: '127.0.0.1', port: hub.info.ports.amqp!, idle_time_out: 300, reconnect: false } as never);
    const outcome = new Promise<string>((resolve) => {
      container.on('error', () => resolve('error'));
      connection.on('connection_error', () => resolve('error'));
      connection.on('connection_close', () => resolve('closed'));
      connection.on('disconnected', () => resolve('disconnected'));
      setTimeout(() => resolve('alive'), 1500);
    });
    await new Promise((resolve) => connection.once('connection_open', resolve));
    expect(await outcome).toBe('alive');
    connection.close();
  }, 10_000);
});
