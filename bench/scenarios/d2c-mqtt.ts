/**
 * D2C telemetry over MQTT (TLS, SAS), QoS 1, 200-byte JSON, 100 devices split over 2 publisher
 * processes, a bounded window per connection; latency is send → PUBACK. The same load runs
 * against Mosquitto once per invocation (plain TCP, no persistence) for the ratio. Afterwards
 * the event stream must hold exactly the acknowledged messages.
 * @module
 */

import type { PublisherConfig } from '../load/mqtt-publisher.ts';
import type { MqttTarget } from '../load/device-target.ts';
import { deviceIds, PAYLOAD_200_BYTES, withHub } from '../support/bench-hub.ts';
import { verifyDurable } from '../support/durability.ts';
import { maxOf, measure, measuredFigures, sum, type Measurement } from '../support/measure.ts';
import { hasMosquitto, startMosquitto } from '../support/mosquitto.ts';
import type { Scenario, ScenarioContext, ScenarioResult } from '../support/result.ts';
import { split, withWorkers } from '../support/workers.ts';

const DEVICES = 100;
const WORKERS = 2;
const WINDOW_PER_CONNECTION = 10;
const MOSQUITTO_KEY = 'd2c-mqtt:mosquitto';

async function publish(target: MqttTarget, pid: number, ids: string[], durationMs: number): Promise<Measurement> {
  const specs = split(ids, WORKERS).map((slice) => ({
    entry: 'mqtt-publisher.ts',
    config: { target, deviceIds: slice, payload: PAYLOAD_200_BYTES, window: WINDOW_PER_CONNECTION, durationMs } satisfies PublisherConfig,
  }));
  return withWorkers(specs, (workers) => measure(pid, workers));
}

function row(m: Measurement, storage: ScenarioResult['storage']): ScenarioResult {
  const acked = sum(m.results, 'acked');
  const seconds = maxOf(m.results, 'elapsedMs') / 1000;
  return {
    scenario: 'd2c-mqtt',
    storage,
    value: acked / seconds,
    unit: 'msg/s',
    ...measuredFigures(m),
    details: {
      devices: DEVICES,
      windowPerConnection: WINDOW_PER_CONNECTION,
      sent: sum(m.results, 'sent'),
      acked,
      seconds,
      closedEarly: sum(m.results, 'closedEarly'),
      drained: m.results.every((r) => r.drained),
    },
  };
}

async function mosquittoBaseline(context: ScenarioContext): Promise<ScenarioResult | undefined> {
  if (!hasMosquitto()) return undefined;
  const cached = context.shared.get(MOSQUITTO_KEY) as ScenarioResult | undefined;
  if (cached) return cached;
  const broker = await startMosquitto();
  try {
    const m = await publish({ endpoint: { host: '127.0.0.1', port: broker.port } }, broker.pid, deviceIds('d2c', DEVICES), context.durationMs);
    const result = { ...row(m, 'mosquitto'), target: 'baseline (plain TCP, no persistence)' };
    context.shared.set(MOSQUITTO_KEY, result);
    return result;
  } finally {
    await broker.stop();
  }
}

export const d2cMqtt: Scenario = {
  name: 'd2c-mqtt',
  description: `D2C MQTT QoS 1 over TLS, 200-byte JSON, ${DEVICES} devices over ${WORKERS} worker processes, ${WINDOW_PER_CONNECTION} in flight each; also against Mosquitto`,
  async run(context) {
    const { storage, durationMs } = context;
    const result = await withHub(storage, async (bench) => {
      const ids = deviceIds('d2c', DEVICES);
      await bench.createDevices(ids);
      const m = await publish(bench.mqttTarget, bench.pid, ids, durationMs);
      const result = row(m, storage);
      result.failure = await verifyDurable(bench, Number(result.details.acked), sum(m.results, 'unacknowledgedOnClose'));
      return result;
    });
    const baseline = await mosquittoBaseline(context);
    const ratio = baseline ? result.value / baseline.value : undefined;
    result.details.mosquittoRatio = ratio;
    if (storage === 'postgres') {
      result.target = '≥ 40,000 msg/s, p99 ≤ 50 ms, ≥ 0.5 × Mosquitto';
      result.met = result.value >= 40_000 && (result.p99Ms ?? Infinity) <= 50 && (ratio === undefined || ratio >= 0.5);
    } else {
      result.target = '≥ 10,000 msg/s';
      result.met = result.value >= 10_000;
    }
    return baseline && !context.shared.has(`${MOSQUITTO_KEY}:reported`)
      ? (context.shared.set(`${MOSQUITTO_KEY}:reported`, true), [result, baseline])
      : [result];
  },
};
