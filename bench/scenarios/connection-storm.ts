/**
 * Connection storm: new MQTT-over-TLS connections with SAS auth per second, each CONNECT →
 * CONNACK then DISCONNECT, from 2 worker processes with 32 connecting loops each.
 * @module
 */

import type { ConnectorConfig } from '../load/mqtt-connector.ts';
import { deviceIds, withHub } from '../support/bench-hub.ts';
import { maxOf, measure, measuredFigures, sum } from '../support/measure.ts';
import type { Scenario } from '../support/result.ts';
import { split, withWorkers } from '../support/workers.ts';

const WORKERS = 2;
const LOOPS_PER_WORKER = 32;

export const connectionStorm: Scenario = {
  name: 'connection-storm',
  description: `new MQTT-over-TLS connections with SAS auth, CONNECT → CONNACK → DISCONNECT, ${WORKERS * LOOPS_PER_WORKER} loops over ${WORKERS} workers`,
  async run({ storage, durationMs }) {
    return withHub(storage, async (bench) => {
      const ids = deviceIds('storm', WORKERS * LOOPS_PER_WORKER);
      await bench.createDevices(ids);
      const specs = split(ids, WORKERS).map((slice) => ({
        entry: 'mqtt-connector.ts',
        config: { target: bench.mqttTarget, deviceIds: slice, durationMs } satisfies ConnectorConfig,
      }));
      const m = await withWorkers(specs, (workers) => measure(bench.pid, workers));
      const connected = sum(m.results, 'connected');
      const rate = connected / (maxOf(m.results, 'elapsedMs') / 1000);
      const errors = m.results.map((r) => r.errors);
      return [
        {
          scenario: 'connection-storm',
          storage,
          value: rate,
          unit: 'conn/s',
          ...measuredFigures(m),
          target: '≥ 2,000 conn/s',
          met: rate >= 2000,
          details: { connected, errors },
        },
      ];
    });
  },
};
