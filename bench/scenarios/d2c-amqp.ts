/**
 * D2C telemetry over AMQP (TLS, CBS SAS), 200-byte JSON, 20 devices with 50 unsettled each;
 * latency send → accepted. The sender runs in the runner process (rhea), ported from the first
 * bench; its CPU is reported as load-generator CPU. The event stream must then hold every
 * accepted message.
 * @module
 */

import type rhea from 'rhea';
import { openAmqpDeviceSender, sendWhile } from '../support/amqp-device.ts';
import { deviceIds, PAYLOAD_200_BYTES, withHub } from '../support/bench-hub.ts';
import { verifyDurable } from '../support/durability.ts';
import { Histogram } from '../support/histogram.ts';
import { sampleProcess } from '../support/process-stats.ts';
import type { Scenario } from '../support/result.ts';

const DEVICES = 20;
const WINDOW = 50;

export const d2cAmqp: Scenario = {
  name: 'd2c-amqp',
  description: `D2C AMQP over TLS, 200-byte JSON, ${DEVICES} devices, ${WINDOW} unsettled each (sender in the runner process)`,
  async run({ storage, durationMs }) {
    return withHub(storage, async (bench) => {
      const connections: rhea.Connection[] = [];
      try {
        const ids = deviceIds('amqp', DEVICES);
        await bench.createDevices(ids);
        const senders = await Promise.all(ids.map((id) => openAmqpDeviceSender(bench, id, connections)));
        const histogram = new Histogram();
        const body = Buffer.from(PAYLOAD_200_BYTES);
        const hubSampler = sampleProcess(bench.pid);
        const selfSampler = sampleProcess(process.pid);
        const deadline = performance.now() + durationMs;
        const until = () => performance.now() >= deadline;
        const runs = await Promise.all(senders.map((sender) => sendWhile(sender, body, { window: WINDOW, until, histogram })));
        const hub = hubSampler.stop();
        const self = selfSampler.stop();
        const accepted = runs.reduce((total, run) => total + run.accepted, 0);
        const rejected = runs.reduce((total, run) => total + run.rejected, 0);
        const rate = accepted / hub.seconds;
        const failure = await verifyDurable(bench, accepted);
        return [
          {
            scenario: 'd2c-amqp',
            storage,
            value: rate,
            unit: 'msg/s',
            p50Ms: histogram.percentileMs(50),
            p99Ms: histogram.percentileMs(99),
            hubCpuPercent: hub.cpuPercent,
            hubPeakRssBytes: hub.peakRssBytes,
            loadCpuPercent: self.cpuPercent,
            target: '≥ 20,000 msg/s',
            met: rate >= 20_000 && !failure,
            failure,
            details: { accepted, rejected },
          },
        ];
      } finally {
        for (const connection of connections) connection.close();
      }
    });
  },
};
