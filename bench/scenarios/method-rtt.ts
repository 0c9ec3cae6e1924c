/**
 * Direct method round trip: the service calls `POST /twins/{id}/methods` (HTTPS keep-alive, over
 * 2 worker processes); 20 devices connected over MQTT (another worker) answer each
 * `$iothub/methods/POST/…` at once. Two phases, each with its devices connected afresh:
 * - throughput: 32 calls in flight, each caller calling again as soon as an answer comes;
 * - latency: calls paced at the target's 2,000 calls/s (open loop, each call's latency counted
 *   from when it was due). At saturation a closed loop's latency is only its concurrency over its
 *   throughput (Little's law: 32 / 7,000 calls/s is 4.6 ms), so the latency target is measured at
 *   the rate it names. The saturated phase's percentiles are kept in the details.
 * @module
 */

import type { HttpsCallerConfig } from '../load/https-caller.ts';
import type { ResponderConfig } from '../load/mqtt-responder.ts';
import { type BenchHub, deviceIds, withHub } from '../support/bench-hub.ts';
import { maxOf, type Measurement, measure, sum } from '../support/measure.ts';
import type { Scenario } from '../support/result.ts';
import { split, withWorkers } from '../support/workers.ts';

const DEVICES = 20;
const CALLERS = 2;
const CONCURRENCY_PER_CALLER = 16;
/** The target's rate, at which its latency is measured. */
const PACED_CALLS_PER_SECOND = 2000;

/** One phase: devices connect and answer, callers call for `durationMs`. */
async function callPhase(bench: BenchHub, ids: string[], durationMs: number, ratePerSecond?: number): Promise<Measurement> {
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
      ratePerSecond: ratePerSecond && ratePerSecond / CALLERS,
      durationMs,
    } satisfies HttpsCallerConfig,
  }));
  // The responder is started (and connected) before the callers probe a method.
  return withWorkers([responder], ([device]) =>
    withWorkers(callers, (callerWorkers) =>
      measure(bench.pid, [device!, ...callerWorkers], async () => {
        const results = await Promise.all(callerWorkers.map((worker) => worker.result));
        device!.send({ command: 'stop' });
        await device!.result;
        return results;
      }),
    ),
  );
}

const callsPerSecond = (m: Measurement) => sum(m.results, 'ok') / (maxOf(m.results, 'elapsedMs') / 1000);

export const methodRtt: Scenario = {
  name: 'method-rtt',
  description: `direct method REST → MQTT device → response, ${DEVICES} devices: throughput with ${CALLERS * CONCURRENCY_PER_CALLER} calls in flight, latency at ${PACED_CALLS_PER_SECOND.toLocaleString('en-US')} calls/s`,
  async run({ storage, durationMs }) {
    return withHub(storage, async (bench) => {
      const ids = deviceIds('method', DEVICES);
      await bench.createDevices(ids);
      const saturated = await callPhase(bench, ids, durationMs);
      const paced = await callPhase(bench, ids, durationMs, PACED_CALLS_PER_SECOND);
      const rate = callsPerSecond(saturated);
      const pacedRate = callsPerSecond(paced);
      const p50Ms = paced.histogram.percentileMs(50);
      const p99Ms = paced.histogram.percentileMs(99);
      // The paced phase must have kept its pace, or its latency would describe a lighter load.
      const isPaced = pacedRate >= PACED_CALLS_PER_SECOND * 0.95;
      return [
        {
          scenario: 'method-rtt',
          storage,
          value: rate,
          unit: 'calls/s',
          p50Ms,
          p99Ms,
          hubCpuPercent: saturated.hub.cpuPercent,
          hubPeakRssBytes: Math.max(saturated.hub.peakRssBytes, paced.hub.peakRssBytes),
          loadCpuPercent: saturated.loadCpuPercent,
          target: `≥ 2,000 calls/s; at ${PACED_CALLS_PER_SECOND.toLocaleString('en-US')} calls/s p50 ≤ 5 ms, p99 ≤ 20 ms`,
          met: rate >= 2000 && isPaced && p50Ms <= 5 && p99Ms <= 20,
          details: {
            saturated: { callsPerSecond: rate, p50Ms: saturated.histogram.percentileMs(50), p99Ms: saturated.histogram.percentileMs(99) },
            paced: { callsPerSecond: pacedRate, p50Ms, p99Ms, hubCpuPercent: paced.hub.cpuPercent },
            statuses: [...saturated.results, ...paced.results].map((r) => r.statuses),
          },
        },
      ];
    });
  },
};
