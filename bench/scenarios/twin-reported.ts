/**
 * Twin reported-property patches over MQTT: 100 devices over 2 worker processes, 4 patches
 * outstanding each; latency is PATCH publish → `$iothub/twin/res/204`.
 * @module
 */

import type { TwinPatcherConfig } from '../load/mqtt-twin-patcher.ts';
import { deviceIds, withHub } from '../support/bench-hub.ts';
import { maxOf, measure, measuredFigures, sum } from '../support/measure.ts';
import type { Scenario } from '../support/result.ts';
import { split, withWorkers } from '../support/workers.ts';

const DEVICES = 100;
const WORKERS = 2;
const WINDOW = 4;

export const twinReported: Scenario = {
  name: 'twin-reported',
  description: `twin reported-property patches over MQTT, ${DEVICES} devices, ${WINDOW} outstanding each`,
  async run({ storage, durationMs }) {
    return withHub(storage, async (bench) => {
      const ids = deviceIds('twin', DEVICES);
      await bench.createDevices(ids);
      const specs = split(ids, WORKERS).map((slice) => ({
        entry: 'mqtt-twin-patcher.ts',
        config: { target: bench.mqttTarget, deviceIds: slice, window: WINDOW, durationMs } satisfies TwinPatcherConfig,
      }));
      const m = await withWorkers(specs, (workers) => measure(bench.pid, workers));
      const ok = sum(m.results, 'ok');
      const rate = ok / (maxOf(m.results, 'elapsedMs') / 1000);
      const answered = sum(m.results, 'answered');
      const failure = answered < sum(m.results, 'sent') ? `twin: ${sum(m.results, 'sent') - answered} patches were never answered` : undefined;
      return [
        {
          scenario: 'twin-reported',
          storage,
          value: rate,
          unit: 'patch/s',
          ...measuredFigures(m),
          target: '≥ 5,000/s',
          met: rate >= 5000 && !failure,
          failure,
          details: { ok, answered, statuses: m.results.map((r) => r.statuses) },
        },
      ];
    });
  },
};
