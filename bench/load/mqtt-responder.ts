#!/usr/bin/env bun
/**
 * Load-generator worker: devices connected over MQTT that answer what the service sends them.
 * - `methods`: subscribes `$iothub/methods/POST/#` and answers each request at once with 200
 *   and the request's payload (`$iothub/methods/res/200/?$rid=…`).
 * - `c2d`: subscribes `devices/{id}/messages/devicebound/#` (QoS 1), PUBACKs each message
 *   (PUBACK completes it) and records send → receive latency from the body's `sentAtMs`.
 * On `stop` with `expected`, waits (up to 15 s) until that many messages arrived, then reports.
 * @module
 */

import { Histogram } from '../support/histogram.ts';
import { type MqttTarget, deviceConnectPacket } from './device-target.ts';
import { MqttConnection } from './mqtt-connection.ts';
import { PUBLISH, SUBACK, mqttPacket, parsePublish, pubackPacket, subscribePacket } from './mqtt-wire.ts';
import { nextCommand, openAll, readConfig, reportReady, reportResult, runWorker } from './worker-io.ts';

export interface ResponderConfig {
  mode: 'methods' | 'c2d';
  target: MqttTarget;
  deviceIds: string[];
}

await runWorker(async () => {
  const config = await readConfig<ResponderConfig>();
  const histogram = new Histogram();
  let received = 0;
  let duplicates = 0;
  let closedEarly = 0;
  let isClosing = false;
  let lastReceivedAt = 0;
  const seen = new Set<string>();
  const connections = await openAll(config.deviceIds.length, 50, async (index) => {
    const deviceId = config.deviceIds[index]!;
    const subscribed = Promise.withResolvers<void>();
    const connection: MqttConnection = await MqttConnection.open(config.target.endpoint, deviceConnectPacket(config.target, deviceId, { clean: true }), {
      onPacket(packet) {
        if (packet.type === SUBACK) return subscribed.resolve();
        if (packet.type !== PUBLISH) return;
        const { topic, messageId, payload } = parsePublish(packet);
        received++;
        lastReceivedAt = performance.now();
        if (config.mode === 'methods') {
          const rid = topic.slice(topic.indexOf('$rid=') + 5).split('&')[0];
          connection.write(mqttPacket.generate({ cmd: 'publish', topic: `$iothub/methods/res/200/?$rid=${rid}`, payload, qos: 0, retain: false, dup: false }));
        } else {
          if (messageId) connection.write(pubackPacket(messageId));
          const body = JSON.parse(payload.toString()) as { sentAtMs: number };
          const key = `${deviceId}:${body.sentAtMs}`;
          if (seen.has(key)) duplicates++;
          seen.add(key);
          histogram.recordMs(performance.timeOrigin + performance.now() - body.sentAtMs);
        }
      },
      onClose() {
        if (!isClosing) closedEarly++;
      },
    });
    const filter = config.mode === 'methods' ? '$iothub/methods/POST/#' : `devices/${deviceId}/messages/devicebound/#`;
    connection.write(subscribePacket(filter, config.mode === 'methods' ? 0 : 1, 1));
    await subscribed.promise;
    return connection;
  });
  reportReady({ connections: connections.length });

  await nextCommand();
  const startedAt = performance.now();
  const stop = await nextCommand();
  const deadline = performance.now() + 15_000;
  while (received - duplicates < (stop.expected ?? 0) && performance.now() < deadline) await Bun.sleep(20);
  isClosing = true;
  for (const connection of connections) connection.close();
  reportResult({ received, duplicates, closedEarly, elapsedMs: lastReceivedAt - startedAt, histogram: histogram.toSparse() });
});
