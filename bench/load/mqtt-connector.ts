#!/usr/bin/env bun
/**
 * Load-generator worker for the connection storm: `concurrency` loops, each with a device of its
 * own (a second connection of one identity would take the first over), open a new TLS
 * connection, CONNECT with a SAS token, wait for CONNACK, DISCONNECT, repeat, for `durationMs`.
 * Latency is socket open → CONNACK.
 * @module
 */

import { Histogram } from '../support/histogram.ts';
import { type MqttTarget, deviceConnectPacket } from './device-target.ts';
import { MqttConnection } from './mqtt-connection.ts';
import { DISCONNECT_PACKET } from './mqtt-wire.ts';
import { nextCommand, readConfig, reportReady, reportResult, runWorker } from './worker-io.ts';

export interface ConnectorConfig {
  target: MqttTarget;
  /** One device per loop. */
  deviceIds: string[];
  durationMs: number;
}

await runWorker(async () => {
  const config = await readConfig<ConnectorConfig>();
  const histogram = new Histogram();
  const errors: Record<string, number> = {};
  let connected = 0;
  // Tokens are made once: the storm measures the hub's TLS and SAS work, not the generator's HMACs.
  const packets = config.deviceIds.map((id) => deviceConnectPacket(config.target, id, { clean: true }));
  reportReady();

  await nextCommand();
  const startedAt = performance.now();
  const deadline = startedAt + config.durationMs;
  let lastAt = startedAt;
  await Promise.all(
    packets.map(async (packet) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          const connection = await MqttConnection.open(config.target.endpoint, packet, {}, 10_000);
          lastAt = performance.now();
          histogram.recordMs(lastAt - t0);
          connected++;
          connection.close(DISCONNECT_PACKET);
        } catch (error) {
          const key = String(error instanceof Error ? error.message : error).slice(0, 80);
          errors[key] = (errors[key] ?? 0) + 1;
          await Bun.sleep(10);
        }
      }
    }),
  );
  reportResult({ connected, errors, elapsedMs: lastAt - startedAt, histogram: histogram.toSparse() });
});
