#!/usr/bin/env bun
/**
 * What the event stream costs the database per event, without a hub or a network in the way:
 * appends of 125-event batches of 200-byte telemetry (stamped as the pipeline stamps it, over 4
 * partitions), then reads of every partition in 1,000-event pages, 4 at once.
 *
 *   bun bench/event-store-cost.ts [--storage pglite|postgres] [--events 100000]
 *
 * Prints events per second and CPU per event: on PostgreSQL the database's (its backends, from
 * /proc) and this process's separately; on PGlite the engine runs in this process, so one figure.
 * The database is a fresh temporary one (PostgreSQL needs DATABASE_URL), dropped afterwards.
 * @module
 */

import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EventRecord, eventSize, partitionFor, stampSystemProperties } from '@tributary/core';
import { openDb } from '@tributary/db';
import { createTemporaryPostgresDatabase } from '@tributary/db/testing';
import { PAYLOAD_200_BYTES } from './support/bench-hub.ts';

const PARTITIONS = 4;
const BATCH = 125;
const PAGE = 1000;

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const storage = option('--storage') ?? (process.env.DATABASE_URL ? 'postgres' : 'pglite');
const total = Number(option('--events') ?? 100_000);
if (storage === 'postgres' && !process.env.DATABASE_URL) throw new Error('--storage postgres needs DATABASE_URL');

const temporary = storage === 'postgres' ? await createTemporaryPostgresDatabase(process.env.DATABASE_URL!, 'event_cost') : undefined;
const dataDir = join(tmpdir(), `tributary-event-cost-${process.pid}`);
const opened = await openDb({ dataDir, databaseUrl: temporary?.url, maxConnections: PARTITIONS });
const store = opened.stores.events;

/** CPU milliseconds of the database's server processes so far (0 for PGlite, which runs in this process). */
async function databaseCpuMs(): Promise<() => number> {
  if (!temporary) return () => 0;
  const client = (opened.db as unknown as { $client: { unsafe(text: string): Promise<{ pid: number }[]> } }).$client;
  const pids = (await client.unsafe('select pid from pg_stat_activity where datname = current_database()')).map((row) => row.pid);
  const ticks = (pid: number) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  return () => pids.reduce((sum, pid) => sum + ticks(pid) * 10, 0);
}

const body = new TextEncoder().encode(PAYLOAD_200_BYTES);
const cursors = Array.from({ length: PARTITIONS }, () => ({ sequenceNumber: 0, offset: 0 }));
let deviceIndex = 0;

function nextBatch(): EventRecord[] {
  return Array.from({ length: BATCH }, () => {
    const deviceId = `d2c-${String(deviceIndex++ % 100).padStart(6, '0')}`;
    const partitionId = partitionFor(deviceId, PARTITIONS);
    const cursor = cursors[partitionId]!;
    const enqueuedTime = Date.now();
    const input = {
      deviceId,
      moduleId: null,
      messageSource: 'Telemetry' as const,
      systemProperties: {},
      applicationProperties: {},
      body,
      connection: { authMethod: '{"scope":"device","type":"sas","issuer":"iothub"}', generationId: '638912345678901234' },
    };
    const event: EventRecord = {
      partitionId,
      sequenceNumber: cursor.sequenceNumber,
      offset: cursor.offset,
      enqueuedTime,
      deviceId,
      moduleId: null,
      messageSource: 'Telemetry',
      systemProperties: stampSystemProperties(input, enqueuedTime),
      applicationProperties: {},
      body,
    };
    cursor.sequenceNumber += 1;
    cursor.offset += eventSize(body);
    return event;
  });
}

async function readAll(): Promise<number> {
  let read = 0;
  await Promise.all(
    cursors.map(async (_, partitionId) => {
      for (let next = 0; ; ) {
        const page = await store.read(partitionId, { sequenceNumber: next }, PAGE);
        if (page.length === 0) return;
        read += page.length;
        next = page.at(-1)!.sequenceNumber + 1;
      }
    }),
  );
  return read;
}

async function measure(what: string, work: () => Promise<number>): Promise<void> {
  const database = await databaseCpuMs();
  const database0 = database();
  const self0 = process.cpuUsage();
  const started = performance.now();
  const events = await work();
  const seconds = (performance.now() - started) / 1000;
  const selfUs = process.cpuUsage(self0);
  const perEvent = (us: number) => `${(us / events).toFixed(1)} µs`;
  const cpu = temporary
    ? `database ${perEvent((database() - database0) * 1000)}, hub side ${perEvent(selfUs.user + selfUs.system)}`
    : `PGlite and hub side together ${perEvent(selfUs.user + selfUs.system)}`;
  console.log(`${storage} ${what}: ${Math.round(events / seconds).toLocaleString('en-US')} events/s; CPU per event: ${cpu}`);
}

try {
  for (let i = 0; i < 20; i++) await store.append(nextBatch()); // warm-up: plans, caches, the prepared statement
  await measure(`append (${BATCH}-event batches)`, async () => {
    let appended = 0;
    while (appended < total) {
      await store.append(nextBatch());
      appended += BATCH;
    }
    return appended;
  });
  await readAll();
  await measure(`read (${PAGE}-event pages, ${PARTITIONS} partitions at once)`, readAll);
} finally {
  await opened.close();
  await temporary?.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
