#!/usr/bin/env bun
/**
 * Load-generator worker: D2C telemetry over MQTT, QoS 1. Opens one connection per device, then
 * on `go` keeps `window` PUBLISHes in flight on each (pre-encoded, packet id patched in place,
 * refilled in one write per received chunk), records send → PUBACK latency, stops sending after
 * `durationMs` (or `maxMessages`) and waits for the outstanding PUBACKs.
 * @module
 */

import { Histogram } from '../support/histogram.ts';
import { type MqttTarget, deviceConnectPacket } from './device-target.ts';
import { MqttConnection } from './mqtt-connection.ts';
import { PUBACK, publishTemplate } from './mqtt-wire.ts';
import { nextCommand, openAll, readConfig, reportReady, reportResult, runWorker } from './worker-io.ts';

export interface PublisherConfig {
  target: MqttTarget;
  deviceIds: string[];
  /** The message body (UTF-8). */
  payload: string;
  window: number;
  durationMs: number;
  /** Stop after this many messages in all (fills); unlimited when absent. */
  maxMessages?: number;
  drainTimeoutMs?: number;
}

await runWorker(async () => {
  const config = await readConfig<PublisherConfig>();
  const histogram = new Histogram();
  let sent = 0;
  let acked = 0;
  let closedEarly = 0;
  let isSending = false;
  let lastAckAt = 0;
  const budget = config.maxMessages ?? Number.POSITIVE_INFINITY;
  /** Messages in flight on connections that closed: never acknowledged, maybe stored. */
  let unacknowledgedOnClose = 0;
  const finished = Promise.withResolvers<void>();
  const budgetSpent = Promise.withResolvers<void>();
  let hasStopped = false;
  const checkDone = () => hasStopped && acked + unacknowledgedOnClose >= sent && finished.resolve();

  const publishers = await openAll(config.deviceIds.length, 50, async (index) => {
    const deviceId = config.deviceIds[index]!;
    const template = publishTemplate(`devices/${deviceId}/messages/events/`, config.payload, 1);
    const size = template.bytes.length;
    const sentAt = new Float64Array(65536);
    let nextId = 1;
    let inFlight = 0;
    let owed = 0;
    const publisher = { isClosing: false, connection: undefined as unknown as MqttConnection, start: () => fill(config.window) };
    const fill = (count: number) => {
      const n = Math.min(count, budget - sent);
      if (n <= 0) return budgetSpent.resolve();
      const batch = Buffer.allocUnsafe(n * size);
      const now = performance.now();
      for (let i = 0; i < n; i++) {
        template.bytes.copy(batch, i * size);
        batch.writeUInt16BE(nextId, i * size + template.idOffset);
        sentAt[nextId] = now;
        nextId = nextId === 65535 ? 1 : nextId + 1;
      }
      sent += n;
      inFlight += n;
      connection.write(batch);
    };
    const connection = await MqttConnection.open(config.target.endpoint, deviceConnectPacket(config.target, deviceId), {
      onPacket(packet) {
        if (packet.type !== PUBACK) return;
        const now = performance.now();
        histogram.recordMs(now - sentAt[packet.body.readUInt16BE(0)]!);
        acked++;
        inFlight--;
        owed++;
        lastAckAt = now;
      },
      afterChunk() {
        if (isSending) fill(owed);
        owed = 0;
        checkDone();
      },
      onClose() {
        if (publisher.isClosing) return;
        closedEarly++;
        unacknowledgedOnClose += inFlight;
        inFlight = 0;
        checkDone();
      },
    });
    publisher.connection = connection;
    return publisher;
  });
  reportReady({ connections: publishers.length });

  await nextCommand();
  const startedAt = performance.now();
  isSending = true;
  for (const publisher of publishers) publisher.start();
  await Promise.race([Bun.sleep(config.durationMs), budgetSpent.promise]);
  isSending = false;
  hasStopped = true;
  const sentWhenStopped = sent;
  checkDone();
  const drained = await Promise.race([finished.promise.then(() => true), Bun.sleep(config.drainTimeoutMs ?? 15_000).then(() => false)]);
  for (const publisher of publishers) publisher.isClosing = true;
  for (const { connection } of publishers) connection.close();
  reportResult({
    sent: sentWhenStopped,
    acked,
    drained,
    closedEarly,
    unacknowledgedOnClose,
    elapsedMs: (lastAckAt || performance.now()) - startedAt,
    histogram: histogram.toSparse(),
  });
});
