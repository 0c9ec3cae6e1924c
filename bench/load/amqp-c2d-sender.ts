#!/usr/bin/env bun
/**
 * Load-generator worker: cloud-to-device sends the way back ends send them, with the official
 * `azure-iothub` `Client` over AMQP/TLS (`/messages/devicebound`), at most `concurrency` sends
 * unsettled, for `durationMs`. Each body carries its send time for the receiving device's
 * latency. Counts sends accepted (committed to the device's queue) and refusals by error name.
 * @module
 */

import tls from 'node:tls';
import { Client } from 'azure-iothub';
import { Message } from 'azure-iothub/dist/common-core/message';
import { nextCommand, readConfig, reportReady, reportResult, runWorker } from './worker-io.ts';

export interface AmqpC2dSenderConfig {
  /** A service connection string whose HostName reaches the AMQPS port (`localhost:<port>`). */
  connectionString: string;
  /** CA to trust for the hub's certificate. */
  ca: string;
  deviceIds: string[];
  concurrency: number;
  durationMs: number;
}

const timestamped = () => new Message(JSON.stringify({ sentAtMs: performance.timeOrigin + performance.now() }));

await runWorker(async () => {
  const config = await readConfig<AmqpC2dSenderConfig>();
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), config.ca]);
  const client = Client.fromConnectionString(config.connectionString);
  await client.open();
  const refusals: Record<string, number> = {};
  let ok = 0;
  // One send before `go`, so a failure shows before the measurement.
  await client.send(config.deviceIds[0]!, timestamped());
  reportReady();

  await nextCommand();
  const deadline = performance.now() + config.durationMs;
  let next = 1;
  const startedAt = performance.now();
  let lastAt = startedAt;
  await Promise.all(
    Array.from({ length: config.concurrency }, async () => {
      while (performance.now() < deadline) {
        const deviceId = config.deviceIds[next++ % config.deviceIds.length]!;
        try {
          await client.send(deviceId, timestamped());
          ok++;
        } catch (error) {
          const name = (error as Error).name || 'Error';
          refusals[name] = (refusals[name] ?? 0) + 1;
        }
        lastAt = performance.now();
      }
    }),
  );
  await client.close();
  reportResult({ ok, refusals, elapsedMs: lastAt - startedAt });
});
