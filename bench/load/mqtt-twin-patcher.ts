#!/usr/bin/env bun
/**
 * Load-generator worker: twin reported-property patches over MQTT. Each device subscribes
 * `$iothub/twin/res/#`, then keeps `window` `$iothub/twin/PATCH/properties/reported/?$rid=n`
 * requests outstanding; latency is publish → `$iothub/twin/res/204/?$rid=n`.
 * @module
 */

import { Histogram } from '../support/histogram.ts';
import { type MqttTarget, deviceConnectPacket } from './device-target.ts';
import { MqttConnection } from './mqtt-connection.ts';
import { PUBLISH, SUBACK, mqttPacket, parsePublish, subscribePacket } from './mqtt-wire.ts';
import { nextCommand, openAll, readConfig, reportReady, reportResult, runWorker } from './worker-io.ts';

export interface TwinPatcherConfig {
  target: MqttTarget;
  deviceIds: string[];
  window: number;
  durationMs: number;
}

await runWorker(async () => {
  const config = await readConfig<TwinPatcherConfig>();
  const histogram = new Histogram();
  const statuses: Record<string, number> = {};
  let sent = 0;
  let answered = 0;
  let isSending = false;
  let lastAt = 0;
  const devices = await openAll(config.deviceIds.length, 50, async (index) => {
    const deviceId = config.deviceIds[index]!;
    const subscribed = Promise.withResolvers<void>();
    const sentAt = new Map<number, number>();
    let nextRid = 1;
    const patch = () => {
      const rid = nextRid++;
      sentAt.set(rid, performance.now());
      sent++;
      connection.write(
        mqttPacket.generate({
          cmd: 'publish',
          topic: `$iothub/twin/PATCH/properties/reported/?$rid=${rid}`,
          payload: JSON.stringify({ temperature: 20 + (rid % 10), firmware: { version: '1.0.0', n: rid } }),
          qos: 0,
          retain: false,
          dup: false,
        }),
      );
    };
    const connection: MqttConnection = await MqttConnection.open(config.target.endpoint, deviceConnectPacket(config.target, deviceId), {
      onPacket(packet) {
        if (packet.type === SUBACK) return subscribed.resolve();
        if (packet.type !== PUBLISH) return;
        const { topic } = parsePublish(packet);
        const match = /^\$iothub\/twin\/res\/(\d+)\/\?\$rid=(\d+)/.exec(topic);
        if (!match) return;
        const t0 = sentAt.get(Number(match[2]));
        if (t0 === undefined) return;
        sentAt.delete(Number(match[2]));
        statuses[match[1]!] = (statuses[match[1]!] ?? 0) + 1;
        lastAt = performance.now();
        answered++;
        if (match[1] === '204') histogram.recordMs(lastAt - t0);
        if (isSending) patch();
      },
    });
    connection.write(subscribePacket('$iothub/twin/res/#', 0, 1));
    await subscribed.promise;
    return { connection, start: () => Array.from({ length: config.window }, patch) };
  });
  reportReady({ connections: devices.length });

  await nextCommand();
  const startedAt = performance.now();
  isSending = true;
  for (const device of devices) device.start();
  await Bun.sleep(config.durationMs);
  isSending = false;
  const deadline = performance.now() + 10_000;
  while (answered < sent && performance.now() < deadline) await Bun.sleep(20);
  for (const { connection } of devices) connection.close();
  reportResult({ sent, answered, statuses, ok: statuses['204'] ?? 0, elapsedMs: lastAt - startedAt, histogram: histogram.toSparse() });
});
