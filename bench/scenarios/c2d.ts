/**
 * C2D end to end: the service sends over AMQP as the official `azure-iothub` `Client.send` does
 * (raw rhea, bench/load/amqp-c2d-sender.ts; 2 worker processes, 128 sends awaiting their
 * disposition each) to 100 devices subscribed over MQTT (another worker), which PUBACK (complete)
 * each message. The rate counts messages received by devices; latency is service send → device
 * receive. Every accepted message must arrive.
 *
 * The hub group-commits whatever sends are in flight, so the rate follows the window until a core
 * is saturated: 256 in flight is 2.6 per device, far below the 50-message queue depth, and a
 * quarter of what the D2C scenarios keep in flight.
 * @module
 */

import { parseIotHubConnectionString } from '@tributary/core';
import type { AmqpC2dSenderConfig } from '../load/amqp-c2d-sender.ts';
import type { ResponderConfig } from '../load/mqtt-responder.ts';
import { deviceIds, withHub } from '../support/bench-hub.ts';
import { measure, measuredFigures, sum } from '../support/measure.ts';
import type { Scenario } from '../support/result.ts';
import { split, withWorkers } from '../support/workers.ts';

const DEVICES = 100;
const SENDERS = 2;
const WINDOW_PER_SENDER = 128;

export const c2d: Scenario = {
  name: 'c2d',
  description: `C2D service AMQP send (as azure-iothub sends, from raw rhea) → MQTT device receive, ${DEVICES} devices, ${SENDERS * WINDOW_PER_SENDER} sends in flight`,
  async run({ storage, durationMs }) {
    return withHub(storage, async (bench) => {
      const ids = deviceIds('c2d', DEVICES);
      await bench.createDevices(ids);
      const receiver = { entry: 'mqtt-responder.ts', config: { mode: 'c2d', target: bench.mqttTarget, deviceIds: ids } satisfies ResponderConfig };
      const owner = parseIotHubConnectionString(bench.hub.connectionString());
      if (owner.kind !== 'service') throw new Error('the hub owner connection string is not a service one');
      const senders = split(ids, SENDERS).map((slice) => ({
        entry: 'amqp-c2d-sender.ts',
        config: {
          port: bench.hub.info.ports.amqps,
          ca: bench.https.ca,
          policy: { keyName: owner.sharedAccessKeyName, key: owner.sharedAccessKey },
          deviceIds: slice,
          window: WINDOW_PER_SENDER,
          durationMs,
        } satisfies AmqpC2dSenderConfig,
      }));
      return withWorkers([receiver], ([device]) =>
        withWorkers(senders, async (senderWorkers) => {
          let accepted = 0;
          const m = await measure(bench.pid, [device!, ...senderWorkers], async () => {
            const results = await Promise.all(senderWorkers.map((worker) => worker.result));
            // Each sender's probe message was accepted before the measurement, too.
            accepted = sum(results, 'ok') + SENDERS;
            device!.send({ command: 'stop', expected: accepted });
            return [await device!.result, ...results.map((rest) => rest as typeof rest & { cpuMs: number; rssBytes: number })];
          });
          const delivery = m.results[0]!;
          const received = Number(delivery.received) - Number(delivery.duplicates);
          const rate = received / (Number(delivery.elapsedMs) / 1000);
          const failure = received < accepted ? `C2D: devices received ${received} of ${accepted} accepted messages` : undefined;
          if (failure) console.error(`\n*** ${failure} ***\n`);
          return [
            {
              scenario: 'c2d',
              storage,
              value: rate,
              unit: 'msg/s',
              ...measuredFigures(m),
              target: '≥ 5,000 msg/s',
              met: rate >= 5000 && !failure,
              failure,
              details: { accepted, received, duplicates: delivery.duplicates, refusals: m.results.slice(1).map((r) => r.refusals) },
            },
          ];
        }),
      );
    });
  },
};
