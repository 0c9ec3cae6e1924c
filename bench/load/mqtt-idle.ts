#!/usr/bin/env bun
/**
 * Load-generator worker for idle connections: on `go`, opens one MQTT-over-TLS connection per
 * device (at most `concurrency` opening at once) and holds them, idle. On `stop` it reports how
 * many the hub dropped, and still holds them until the runner ends it (kill, or stdin closed),
 * so the runner can profile the hub with the connections open.
 * @module
 */

import { type MqttTarget, deviceConnectPacket } from './device-target.ts';
import { MqttConnection } from './mqtt-connection.ts';
import { nextCommand, openAll, readConfig, reportReady, reportResult, runWorker } from './worker-io.ts';

export interface IdleConfig {
  target: MqttTarget;
  deviceIds: string[];
  concurrency: number;
}

await runWorker(async () => {
  const config = await readConfig<IdleConfig>();
  const packets = config.deviceIds.map((id) => deviceConnectPacket(config.target, id, { keepaliveS: 1200 }));
  let dropped = 0;
  reportReady();

  await nextCommand();
  const startedAt = performance.now();
  const connections = await openAll(packets.length, config.concurrency, (index) =>
    MqttConnection.open(config.target.endpoint, packets[index]!, { onClose: () => dropped++ }, 60_000),
  );
  const openedMs = performance.now() - startedAt;
  process.stdout.write(JSON.stringify({ type: 'opened', connections: connections.length, openedMs }) + '\n');
  await nextCommand();
  reportResult({ opened: connections.length, openedMs, dropped });
  await nextCommand().catch(() => {});
});
