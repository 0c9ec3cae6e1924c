/**
 * Direct method round trip: the service calls `POST /twins/{id}/methods` (HTTPS keep-alive, 32
 * in flight over 2 worker processes); 20 devices connected over MQTT (another worker) answer
 * each `$iothub/methods/POST/…` at once. Latency is the REST call's.
 * @module
 */

import type { HttpsCallerConfig } from '../load/https-caller.ts';
import type { ResponderConfig } from '../load/mqtt-responder.ts';
import { deviceIds, withHub } from '../support/bench-hub.ts';
import { maxOf, measure, sum } from '../support/measure.ts';
import type { Scenario } from '../support/result.ts';
import { split, withWorkers } from '../support/workers.ts';

const DEVICES = 20;
const CALLERS = 2;
const CONCURRENCY_PER_CALLER = 16;

export const methodRtt: Scenario = {
  name: 'method-rtt',
  description: `direct method REST → MQTT device → response, ${DEVICES} devices, ${CALLERS * CONCURRENCY_PER_CALLER} calls in flight`,
  async run({ storage, durationMs }) {
    return withHub(storage, async (bench) => {
      const ids = deviceIds('method', DEVICES);
      await bench.createDevices(ids);
      const responder = { entry: 'mqtt-responder.ts', config: { mode: 'methods', target: bench.mqttTarget, deviceIds: ids } satisfies ResponderConfig };
      const callers = split(ids, CALLERS).map((slice) => ({
        entry: 'https-caller.ts',
        config: {
          kind: 'method',
          ...bench.https,
          deviceIds: slice,
          serviceToken: bench.serviceToken(),
          payload: '',
          concurrency: CONCURRENCY_PER_CALLER,
          durationMs,
        } satisfies HttpsCallerConfig,
      }));
      // The responder is started (and connected) before the callers probe a method.
      return withWorkers([responder], ([device]) =>
        withWorkers(callers, async (callerWorkers) => {
          const m = await measure(bench.pid, [device!, ...callerWorkers], async () => {
            const results = await Promise.all(callerWorkers.map((worker) => worker.result));
            device!.send({ command: 'stop' });
            await device!.result;
            return results;
          });
          const ok = sum(m.results, 'ok');
          const rate = ok / (maxOf(m.results, 'elapsedMs') / 1000);
          const p50Ms = m.histogram.percentileMs(50);
          const p99Ms = m.histogram.percentileMs(99);
          return [
            {
              scenario: 'method-rtt',
              storage,
              value: rate,
              unit: 'calls/s',
              p50Ms,
              p99Ms,
              hubCpuPercent: m.hub.cpuPercent,
              hubPeakRssBytes: m.hub.peakRssBytes,
              loadCpuPercent: m.loadCpuPercent,
              target: 'p50 ≤ 5 ms, p99 ≤ 20 ms, ≥ 2,000 calls/s',
              met: p50Ms <= 5 && p99Ms <= 20 && rate >= 2000,
              details: { ok, statuses: m.results.map((r) => r.statuses) },
            },
          ];
        }),
      );
    });
  },
};
