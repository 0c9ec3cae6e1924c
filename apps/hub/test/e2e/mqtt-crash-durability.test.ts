/**
 * Nothing acknowledged is lost: a device streams QoS 1 telemetry, the hub process is killed with
 * SIGKILL mid-stream, and after a restart every message the device saw acknowledged (PUBACK) is
 * in the event stream.
 */

import { rm } from 'node:fs/promises';
import { expect, test } from 'bun:test';
import mqtt from 'mqtt';
import { Registry } from 'azure-iothub';
import { sasRecipes } from '@tributary/core';
import { createTemporaryPostgresDatabase } from '@tributary/db/testing';
import { readDeviceEvents } from '../support/service-calls.ts';
import { forEachStorage, sharedTestCa, spawnHub } from './spawn-hub.ts';

const IN_FLIGHT = 100;

forEachStorage('crash durability', (storage) => {
  test('after SIGKILL mid-stream, every acknowledged message is in the event stream', async () => {
    const database = storage === 'postgres' ? await createTemporaryPostgresDatabase(process.env.DATABASE_URL!, 'crash') : undefined;
    const hub = await spawnHub({ storage, database, keep: true });
    let restarted: Awaited<ReturnType<typeof spawnHub>> | undefined;
    try {
      const deviceId = `crash-${storage}`;
      const { responseBody } = await Registry.fromConnectionString(hub.connectionString()).create({ deviceId });
      const key = responseBody.authentication!.symmetricKey!.primaryKey!;
      const ca = await sharedTestCa();
      const client = mqtt.connect(`mqtts://${hub.info.hostName}:8883`, {
        clientId: deviceId,
        username: `${hub.info.hostName}/${deviceId}/?api-version=2021-04-12`,
        password: sasRecipes.device(hub.info.hostName, deviceId, key, Math.floor(Date.now() / 1000) + 3600),
        protocolVersion: 4,
        reconnectPeriod: 0,
        ca: ca.certPem,
        servername: 'localhost', // Bun refuses an IP literal as TLS servername; the certificate covers localhost
      });
      client.on('error', () => {});
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));

      const acknowledged = new Set<number>();
      let sent = 0;
      let isKilled = false;
      const publishNext = () => {
        if (isKilled) return;
        const n = sent++;
        client.publish(`devices/${deviceId}/messages/events/%24.mid=${n}`, `m${n}`, { qos: 1 }, (error) => {
          if (!error && !isKilled) acknowledged.add(n);
          publishNext();
        });
      };
      for (let i = 0; i < IN_FLIGHT; i++) publishNext();
      while (acknowledged.size < 2000) await Bun.sleep(5);
      isKilled = true;
      const acknowledgedBeforeKill = new Set(acknowledged);
      await hub.kill();
      client.end(true);
      expect(sent).toBeGreaterThan(acknowledgedBeforeKill.size);

      restarted = await spawnHub({ storage, database, dataDir: hub.dataDir, keep: true });
      const stored = new Set((await readDeviceEvents(restarted, deviceId)).map((event) => Number(event.systemProperties['message-id'])));
      const lost = [...acknowledgedBeforeKill].filter((n) => !stored.has(n));
      expect(lost).toEqual([]);
    } finally {
      await restarted?.stop();
      await database?.drop();
      await rm(hub.dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
