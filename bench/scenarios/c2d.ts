/**
 * C2D end to end: the service sends with the official `azure-iothub` `Client` over AMQP (what
 * `Client.send` uses; 2 worker processes, 64 sends unsettled each) to 100 devices subscribed
 * over MQTT (another worker), which PUBACK (complete) each message. The rate counts messages
 * received by devices; latency is service send → device receive. Every accepted message must
 * arrive.
 * @module
 */

import type { AmqpC2dSenderConfig } from '../load/amqp-c2d-sender.ts';
import type { ResponderConfig } from '../load/mqtt-responder.ts';
import { deviceIds, withHub } from '../support/bench-hub.ts';
import { measure, measuredFigures, sum } from '../support/measure.ts';
import type { Scenario } from '../support/result.ts';
import { split, withWorkers } from '../support/workers.ts';

const DEVICES = 100;
const SENDERS = 2;
const CONCURRENCY_PER_SENDER = 64;

export const c2d: Scenario = {
  name: 'c2d',
  description: `C2D service AMQP send (azure-iothub) → MQTT device receive, ${DEVICES} devices, ${SENDERS * CONCURRENCY_PER_SENDER} sends in flight`,
  async run({ storage, durationMs }) {
    return withHub(storage, async (bench) => {
      const ids = deviceIds('c2d', DEVICES);
      await bench.createDevices(ids);
      const receiver = { entry: 'mqtt-responder.ts', config: { mode: 'c2d', target: bench.mqttTarget, deviceIds: ids } satisfies ResponderConfig };
      const connectionString = bench.hub.connectionString().replace(/HostName=[^;]+/, `HostName=localhost:${bench.hub.info.ports.amqps}`);
      const senders = split(ids, SENDERS).map((slice) => ({
        entry: 'amqp-c2d-sender.ts',
        config: {
          connectionString,
          ca: bench.https.ca,
          deviceIds: slice,
          concurrency: CONCURRENCY_PER_SENDER,
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
