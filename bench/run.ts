#!/usr/bin/env bun
/**
 * `bun run bench`: starts fresh hubs (PGlite, and PostgreSQL when DATABASE_URL is set), runs each
 * scenario against them, prints one table and writes bench/results/<date>.json.
 *
 *   bun run bench [--quick] [--scenario <name>]
 *
 * Scenarios measure what the hub serves today; later issues add telemetry, C2D, methods and
 * connection scenarios to SCENARIOS. The load generator here is in-process HTTP with keep-alive
 * and bounded concurrency; per-scenario latency is from request to response.
 */

import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseIotHubConnectionString, partitionFor, sasRecipes } from '@tributary/core';
import mqtt, { type MqttClient } from 'mqtt';
import rhea from 'rhea';
import { EventHubConsumerClient } from '@azure/event-hubs';
import { readDeviceEvents } from '../apps/hub/test/support/service-calls.ts';
import { LOCALHOST_HUB_ENV, sharedTestCa, spawnHub, storages, type SpawnedHub, type Storage } from '../apps/hub/test/support/hub-process.ts';

interface Result {
  scenario: string;
  storage: Storage;
  operations: number;
  seconds: number;
  perSecond: number;
  p50Ms?: number;
  p99Ms?: number;
  note?: string;
}

interface Scenario {
  name: string;
  description: string;
  run(context: { storage: Storage; quick: boolean }): Promise<Result>;
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--scenario') ? args[args.indexOf('--scenario') + 1] : undefined;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function serviceToken(hub: SpawnedHub): string {
  const owner = parseIotHubConnectionString(hub.connectionString('iothubowner'));
  if (owner.kind !== 'service') throw new Error('expected a service connection string');
  return sasRecipes.service(owner.hostName, owner.sharedAccessKeyName, owner.sharedAccessKey, Math.floor(Date.now() / 1000) + 3600);
}

/** Runs `operation(i)` for i in [0, count) with at most `concurrency` in flight; returns latencies. */
async function drive(count: number, concurrency: number, operation: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        await operation(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? NaN);
}

async function expectOk(response: Response, what: string): Promise<void> {
  if (!response.ok) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

/** Registers devices with the bulk API (100 per call). */
async function createDevices(hub: SpawnedHub, ids: string[]): Promise<void> {
  const authorization = serviceToken(hub);
  for (let i = 0; i < ids.length; i += 100) {
    const body = JSON.stringify(ids.slice(i, i + 100).map((id) => ({ id, importMode: 'create' })));
    await expectOk(await hub.fetch('/devices', { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body }), 'bulk create');
  }
}

/**
 * A D2C run's result. Acknowledged means durable, so it also counts what the event stream holds
 * for one device and says so when that is short.
 */
async function d2cResult(
  scenario: string,
  storage: Storage,
  run: { total: number; seconds: number; latencies: number[] },
  check: { hub: SpawnedHub; deviceId: string; expected: number },
): Promise<Result> {
  run.latencies.sort((a, b) => a - b);
  const stored = (await readDeviceEvents(check.hub, check.deviceId)).length;
  return {
    scenario,
    storage,
    operations: run.total,
    seconds: run.seconds,
    perSecond: run.total / run.seconds,
    p50Ms: percentile(run.latencies, 50),
    p99Ms: percentile(run.latencies, 99),
    note: stored === check.expected ? 'all acknowledged messages stored' : `STORED ${stored} OF ${check.expected} for ${check.deviceId}`,
  };
}

const PAYLOAD_200_BYTES = Buffer.from(JSON.stringify({ temperature: 21.5, humidity: 40, pad: 'x'.repeat(150) }).slice(0, 200));

/** A device's telemetry sender over AMQP/TLS (raw rhea): CBS put-token, then the events link. */
async function openAmqpDeviceSender(hub: SpawnedHub, deviceId: string, connections: rhea.Connection[]): Promise<rhea.Sender> {
  const authorization = serviceToken(hub);
  const ca = await sharedTestCa();
  const host = `localhost:${hub.info.ports.amqps}`;
  const device = (await (await hub.fetch(`/devices/${deviceId}`, { headers: { authorization } })).json()) as {
    authentication: { symmetricKey: { primaryKey: string } };
  };
  const token = sasRecipes.device(host, deviceId, device.authentication.symmetricKey.primaryKey, Math.floor(Date.now() / 1000) + 3600);
  const container = rhea.create_container();
  // The hub closes connections when the scenario stops it; that is expected, not a failure.
  container.on('error', () => {});
  const connection = container.connect({
    host: 'localhost',
    port: hub.info.ports.amqps,
    transport: 'tls',
    ca: ca.certPem,
    servername: 'localhost',
    reconnect: false,
  } as never);
  connections.push(connection);
  const cbsReceiver = connection.open_receiver({ source: { address: '$cbs' } });
  const cbsSender = connection.open_sender({ target: { address: '$cbs' } });
  await new Promise<void>((resolve, reject) => {
    cbsReceiver.once('message', (context) =>
      context.message?.application_properties?.['status-code'] === 200 ? resolve() : reject(new Error('put-token refused')),
    );
    cbsSender.once('sendable', () =>
      cbsSender.send({
        message_id: `put-${deviceId}`,
        to: '$cbs',
        application_properties: { operation: 'put-token', type: 'servicebus.windows.net:sastoken', name: encodeURIComponent(`${host}/devices/${deviceId}`) },
        body: token,
      }),
    );
  });
  const sender = connection.open_sender({ target: { address: `/devices/${deviceId}/messages/events` } });
  await new Promise<void>((resolve) => sender.once('sendable', () => resolve()));
  return sender;
}

/** Sends `count` messages with at most `window` unsettled; resolves when all are accepted. */
function sendAll(sender: rhea.Sender, count: number, window: number, onAccepted?: (sentAtMs: number) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let sent = 0;
    let done = 0;
    const sentAt = new Map<unknown, number>();
    const next = () => {
      while (sent < count && sent - done < window && sender.sendable()) {
        sent++;
        sentAt.set(sender.send({ body: rhea.message.data_section(PAYLOAD_200_BYTES) }), performance.now());
      }
    };
    sender.on('accepted', (context) => {
      onAccepted?.(sentAt.get(context.delivery) ?? performance.now());
      sentAt.delete(context.delivery);
      if (++done === count) resolve();
      else next();
    });
    sender.on('rejected', () => reject(new Error('a message was rejected')));
    sender.on('sendable', next);
    next();
  });
}

const SCENARIOS: Scenario[] = [
  {
    name: 'startup',
    description: 'hub start to ready (hub.json written) on a fresh data dir, and idle RSS 2 s later',
    async run({ storage }) {
      const t0 = performance.now();
      const hub = await spawnHub({ storage });
      const seconds = (performance.now() - t0) / 1000;
      await Bun.sleep(2000);
      const rss = await rssKiB(hub.info.pid);
      await hub.stop();
      return { scenario: 'startup', storage, operations: 1, seconds, perSecond: 1 / seconds, note: `idle RSS ${(rss / 1024).toFixed(0)} MiB` };
    },
  },
  {
    name: 'registry-create',
    description: 'PUT /devices/{id} (create with generated keys), 32 in flight',
    async run({ storage, quick }) {
      const hub = await spawnHub({ storage });
      try {
        const authorization = serviceToken(hub);
        const count = quick ? 1000 : 5000;
        const body = JSON.stringify({ authentication: { type: 'sas', symmetricKey: { primaryKey: '', secondaryKey: '' } } });
        const run = await drive(count, 32, async (i) =>
          expectOk(
            await hub.fetch(`/devices/bench-${i}`, { method: 'PUT', headers: { authorization, 'content-type': 'application/json' }, body }),
            'create',
          ),
        );
        return { scenario: 'registry-create', storage, operations: count, perSecond: count / run.seconds, ...run };
      } finally {
        await hub.stop();
      }
    },
  },
  {
    name: 'registry-get',
    description: 'GET /devices/{id} of 1,000 registered devices, 32 in flight',
    async run({ storage, quick }) {
      const hub = await spawnHub({ storage });
      try {
        const authorization = serviceToken(hub);
        await createDevices(hub, Array.from({ length: 1000 }, (_, i) => `get-${i}`));
        const count = quick ? 5000 : 30000;
        const run = await drive(count, 32, async (i) =>
          expectOk(await hub.fetch(`/devices/get-${i % 1000}`, { headers: { authorization } }), 'get'),
        );
        return { scenario: 'registry-get', storage, operations: count, perSecond: count / run.seconds, ...run };
      } finally {
        await hub.stop();
      }
    },
  },
  {
    name: 'd2c-mqtt',
    description: 'D2C MQTT QoS 1 over TLS, 200-byte JSON, 20 devices, 50 in flight each; latency publish → PUBACK',
    async run({ storage, quick }) {
      const hub = await spawnHub({ storage });
      const clients: MqttClient[] = [];
      try {
        const authorization = serviceToken(hub);
        const ca = await sharedTestCa();
        const deviceCount = 20;
        const perDevice = quick ? 500 : 5000;
        const window = 50;
        const devices = Array.from({ length: deviceCount }, (_, i) => ({ id: `d2c-${i}` }));
        await createDevices(hub, devices.map(({ id }) => id));
        const body = Buffer.from(JSON.stringify({ temperature: 21.5, humidity: 40, pad: 'x'.repeat(150) }).slice(0, 200));
        for (const { id } of devices) {
          const device = (await (await hub.fetch(`/devices/${id}`, { headers: { authorization } })).json()) as { authentication: { symmetricKey: { primaryKey: string } } };
          const client = mqtt.connect(`mqtts://${hub.info.hostName}:8883`, {
            clientId: id,
            username: `${hub.info.hostName}/${id}/?api-version=2021-04-12`,
            password: sasRecipes.device(hub.info.hostName, id, device.authentication.symmetricKey.primaryKey, Math.floor(Date.now() / 1000) + 3600),
            protocolVersion: 4,
            reconnectPeriod: 0,
            ca: ca.certPem,
            servername: 'localhost',
          });
          await new Promise<void>((resolve, reject) => {
            client.once('connect', () => resolve());
            client.once('error', reject);
          });
          clients.push(client);
        }
        const latencies: number[] = [];
        const started = performance.now();
        await Promise.all(
          clients.map(
            (client, index) =>
              new Promise<void>((resolve, reject) => {
                let sent = 0;
                let done = 0;
                const topic = `devices/d2c-${index}/messages/events/`;
                const next = () => {
                  if (sent >= perDevice) return;
                  sent++;
                  const t0 = performance.now();
                  client.publish(topic, body, { qos: 1 }, (error) => {
                    if (error) return reject(error);
                    latencies.push(performance.now() - t0);
                    if (++done === perDevice) resolve();
                    else next();
                  });
                };
                for (let i = 0; i < window; i++) next();
              }),
          ),
        );
        const seconds = (performance.now() - started) / 1000;
        return await d2cResult('d2c-mqtt', storage, { total: deviceCount * perDevice, seconds, latencies }, { hub, deviceId: 'd2c-0', expected: perDevice });
      } finally {
        for (const client of clients) client.end(true);
        await hub.stop();
      }
    },
  },
  {
    name: 'd2c-amqp',
    description: 'D2C AMQP over TLS, 200-byte JSON, 20 devices, 50 unsettled each; latency send → accepted',
    async run({ storage, quick }) {
      // rhea puts the host in TLS SNI, which Bun refuses for an IP literal: reach the hub as localhost.
      const hub = await spawnHub({ storage, env: LOCALHOST_HUB_ENV });
      const connections: rhea.Connection[] = [];
      try {
        const deviceCount = 20;
        const perDevice = quick ? 500 : 5000;
        const window = 50;
        const ids = Array.from({ length: deviceCount }, (_, i) => `amqp-${i}`);
        await createDevices(hub, ids);
        const latencies: number[] = [];
        const senders = await Promise.all(ids.map((id) => openAmqpDeviceSender(hub, id, connections)));
        const started = performance.now();
        await Promise.all(senders.map((sender) => sendAll(sender, perDevice, window, (sentAtMs) => latencies.push(performance.now() - sentAtMs))));
        const seconds = (performance.now() - started) / 1000;
        return await d2cResult('d2c-amqp', storage, { total: deviceCount * perDevice, seconds, latencies }, { hub, deviceId: 'amqp-0', expected: perDevice });
      } finally {
        for (const connection of connections) connection.close();
        await hub.stop();
      }
    },
  },
  {
    name: 'eventhubs-read',
    description: 'one @azure/event-hubs consumer reads a partition of 20,000 events (maxBatchSize 500, prefetch 2000)',
    async run({ storage, quick }) {
      const hub = await spawnHub({ storage, env: LOCALHOST_HUB_ENV });
      const connections: rhea.Connection[] = [];
      let consumer: EventHubConsumerClient | undefined;
      try {
        const authorization = serviceToken(hub);
        await expectOk(
          await hub.fetch('/devices/reader-fill', { method: 'PUT', headers: { authorization, 'content-type': 'application/json' }, body: '{}' }),
          'create',
        );
        const count = quick ? 5000 : 20_000;
        await sendAll(await openAmqpDeviceSender(hub, 'reader-fill', connections), count, 200);
        const partitionId = String(partitionFor('reader-fill', 4));
        consumer = new EventHubConsumerClient('$Default', hub.info.eventHubCompatible.connectionString);
        let received = 0;
        const started = performance.now();
        await new Promise<void>((resolve, reject) => {
          const subscription = consumer!.subscribe(
            partitionId,
            {
              processEvents: async (events) => {
                received += events.length;
                if (received >= count) {
                  await subscription.close();
                  resolve();
                }
              },
              processError: async (error) => reject(error),
            },
            { startPosition: { sequenceNumber: 0, isInclusive: true }, maxBatchSize: 500, prefetchCount: 2000 },
          );
        });
        const seconds = (performance.now() - started) / 1000;
        return { scenario: 'eventhubs-read', storage, operations: received, seconds, perSecond: received / seconds };
      } finally {
        await consumer?.close();
        for (const connection of connections) connection.close();
        await hub.stop();
      }
    },
  },
];

await sharedTestCa();
const selected = SCENARIOS.filter((s) => !only || s.name === only);
if (selected.length === 0) {
  console.error(`Unknown scenario '${only}'. Scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
if (!process.env.DATABASE_URL) console.warn('DATABASE_URL is not set: PostgreSQL runs are skipped.');

const results: Result[] = [];
for (const scenario of selected) {
  for (const storage of storages()) {
    process.stderr.write(`running ${scenario.name} on ${storage}…\n`);
    results.push(await scenario.run({ storage, quick }));
  }
}

const fmt = (n: number | undefined, digits = 1) => (n === undefined || Number.isNaN(n) ? '' : n.toFixed(digits));
console.log('\n| scenario | storage | ops | seconds | ops/s | p50 ms | p99 ms | note |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${r.scenario} | ${r.storage} | ${r.operations} | ${fmt(r.seconds, 2)} | ${fmt(r.perSecond, 0)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${r.note ?? ''} |`);
}

const dir = join(new URL('.', import.meta.url).pathname, 'results');
await mkdir(dir, { recursive: true });
const file = join(dir, `${new Date().toISOString().replaceAll(':', '-')}.json`);
await Bun.write(file, JSON.stringify({ date: new Date().toISOString(), quick, machine: { cpus: navigator.hardwareConcurrency }, results }, null, 2));
console.log(`\nwritten to ${file}`);
