/**
 * D2C telemetry over the HTTPS device API: `POST /devices/{id}/messages/events` with device SAS
 * tokens, keep-alive, 64 requests in flight over 2 worker processes; latency request → 204.
 * The event stream must then hold every accepted message.
 * @module
 */

import type { HttpsCallerConfig } from '../load/https-caller.ts';
import { DEVICE_KEY, deviceIds, PAYLOAD_200_BYTES, withHub } from '../support/bench-hub.ts';
import { verifyDurable } from '../support/durability.ts';
import { maxOf, measure, measuredFigures, sum } from '../support/measure.ts';
import type { Scenario } from '../support/result.ts';
import { split, withWorkers } from '../support/workers.ts';

const DEVICES = 100;
const WORKERS = 2;
const CONCURRENCY_PER_WORKER = 32;

export const d2cHttps: Scenario = {
  name: 'd2c-https',
  description: `D2C over the HTTPS device API, 200-byte JSON, ${DEVICES} devices, ${WORKERS * CONCURRENCY_PER_WORKER} requests in flight over ${WORKERS} workers`,
  async run({ storage, durationMs }) {
    return withHub(storage, async (bench) => {
      const ids = deviceIds('https', DEVICES);
      await bench.createDevices(ids);
      const specs = split(ids, WORKERS).map((slice) => ({
        entry: 'https-caller.ts',
        config: {
          kind: 'd2c',
          ...bench.https,
          deviceIds: slice,
          deviceKey: DEVICE_KEY,
          payload: PAYLOAD_200_BYTES,
          concurrency: CONCURRENCY_PER_WORKER,
          durationMs,
        } satisfies HttpsCallerConfig,
      }));
      const m = await withWorkers(specs, (workers) => measure(bench.pid, workers));
      // Each worker's probe message is accepted (and stored) before the measurement.
      const accepted = sum(m.results, 'ok');
      const failure = await verifyDurable(bench, accepted + WORKERS);
      return [
        {
          scenario: 'd2c-https',
          storage,
          value: accepted / (maxOf(m.results, 'elapsedMs') / 1000),
          unit: 'msg/s',
          ...measuredFigures(m),
          target: 'reported',
          failure,
          details: { accepted, statuses: m.results.map((r) => r.statuses) },
        },
      ];
    });
  },
};
